package feedback

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Asked is an unanswered question, scrubbed, and how often it came.
type Asked struct {
	Question string `json:"question"`
	Count    int64  `json:"count"`
}

// TopicStats are the counts of one topic.
type TopicStats struct {
	Topic      string `json:"topic"`
	Shown      int64  `json:"shown"`
	Helpful    int64  `json:"helpful"`
	NotHelpful int64  `json:"not_helpful"`
}

// Votes is how many people answered "Was this helpful?".
func (t TopicStats) Votes() int64 { return t.Helpful + t.NotHelpful }

// HelpfulShare is the share of votes that said helpful (0..1), or -1 with
// no votes.
func (t TopicStats) HelpfulShare() float64 {
	if t.Votes() == 0 {
		return -1
	}
	return float64(t.Helpful) / float64(t.Votes())
}

// Report is what maintainers read to decide what to write next.
type Report struct {
	Since time.Time
	// Unanswered are the most frequent questions that found no topic.
	Unanswered []Asked
	// Topics holds every topic shown or voted on, by topic id.
	Topics []TopicStats
}

// LeastHelpful lists at most n topics with at least one "not helpful" vote,
// the lowest share of helpful votes first, then the most votes.
func (r Report) LeastHelpful(n int) []TopicStats {
	var out []TopicStats
	for _, t := range r.Topics {
		if t.NotHelpful > 0 {
			out = append(out, t)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.HelpfulShare() != b.HelpfulShare() {
			return a.HelpfulShare() < b.HelpfulShare()
		}
		if a.Votes() != b.Votes() {
			return a.Votes() > b.Votes()
		}
		return a.Topic < b.Topic
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// Report reads the counts since a day (UTC), with at most n unanswered
// questions.
func (s *Store) Report(ctx context.Context, since time.Time, n int) (Report, error) {
	r := Report{Since: since.UTC().Truncate(24 * time.Hour)}
	day := r.Since.Format(time.DateOnly)
	rows, err := s.db.QueryContext(ctx, s.bind(`SELECT question, CAST(SUM(asked) AS BIGINT) AS n FROM kratombot_unanswered
		WHERE day >= ? GROUP BY question ORDER BY n DESC, question LIMIT ?`), day, n)
	if err != nil {
		return r, fmt.Errorf("reading unanswered questions from the feedback store: %w", err)
	}
	for rows.Next() {
		var a Asked
		if err := rows.Scan(&a.Question, &a.Count); err != nil {
			rows.Close()
			return r, fmt.Errorf("reading unanswered questions from the feedback store: %w", err)
		}
		r.Unanswered = append(r.Unanswered, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("reading unanswered questions from the feedback store: %w", err)
	}
	rows, err = s.db.QueryContext(ctx, s.bind(`SELECT topic, CAST(SUM(shown) AS BIGINT), CAST(SUM(helpful) AS BIGINT), CAST(SUM(not_helpful) AS BIGINT) FROM kratombot_topics
		WHERE day >= ? GROUP BY topic ORDER BY topic`), day)
	if err != nil {
		return r, fmt.Errorf("reading topic counts from the feedback store: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t TopicStats
		if err := rows.Scan(&t.Topic, &t.Shown, &t.Helpful, &t.NotHelpful); err != nil {
			return r, fmt.Errorf("reading topic counts from the feedback store: %w", err)
		}
		r.Topics = append(r.Topics, t)
	}
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("reading topic counts from the feedback store: %w", err)
	}
	return r, nil
}
