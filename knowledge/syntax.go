package knowledge

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/encoding/charmap"
)

// This file finds the line a maintainer has to change when the YAML library
// cannot say it well: a file saved in another encoding, curly quotes, an
// unclosed quote, and indentation that no line above uses. The library
// names the line where it gave up, which is often a blank line or line 1.

// encodingProblem finds a file that is not UTF-8 text.
func encodingProblem(name string, data []byte) (Problem, bool) {
	at := func(line, col int, msg string) (Problem, bool) {
		return Problem{Pos: Position{File: name, Line: line, Col: col}, Message: msg}, true
	}
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return at(1, 1, "this file is saved as UTF-16 (\"Unicode\" in Notepad); save it again as UTF-8 (in Notepad: Save As, Encoding: UTF-8)")
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		line, col := lineCol(data, i)
		return at(line, col, "this file has NUL bytes, as a file saved as UTF-16 (\"Unicode\") has; save it again as UTF-8")
	}
	if utf8.Valid(data) {
		return Problem{}, false
	}
	off := 0
	for off < len(data) {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		off += size
	}
	line, col := lineCol(data, off)
	ch := ""
	if dec, err := charmap.Windows1252.NewDecoder().Bytes(data[off : off+1]); err == nil {
		ch = fmt.Sprintf(" (%q in Windows-1252)", string(dec))
	}
	return at(line, col, fmt.Sprintf("this file is not saved as UTF-8: the byte 0x%02X here%s is from another encoding, probably Windows-1252 (\"ANSI\"); save the file again as UTF-8 and check this character", data[off], ch))
}

// lineCol is the 1-based line and column (in characters) of byte offset off.
func lineCol(data []byte, off int) (int, int) {
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCount(before[start:]) + 1
}

const curlyQuotes = "“”„‘’‚«»"

// curlyHint names curly quotes on a line: word processors and phones type
// them for ", and YAML does not take them as quotes.
func curlyHint(line string) string {
	if !strings.ContainsAny(line, curlyQuotes) {
		return ""
	}
	return "this line uses curly quotes (“ ” or ‘ ’), which YAML does not read as quotes; retype them as straight quotes (\") — word processors and phones change them"
}

// curlyValues finds text wrapped in curly quotes that YAML read as part of
// the text (emergency: “111” would show people the quotes).
func curlyValues(name string, n *yaml.Node, ps *Problems) {
	if n == nil {
		return
	}
	if n.Kind == yaml.ScalarNode && n.Style == 0 && strings.ContainsAny(n.Value, curlyQuotes) {
		first, _ := utf8.DecodeRuneInString(n.Value)
		last, _ := utf8.DecodeLastRuneInString(n.Value)
		if strings.ContainsRune(curlyQuotes, first) && strings.ContainsRune(curlyQuotes, last) {
			*ps = append(*ps, Problem{Pos: Position{name, n.Line, n.Column}, Message: fmt.Sprintf("%s is wrapped in curly quotes, which YAML keeps as part of the text, so people would see them; use straight quotes (\"...\") instead", n.Value)})
		}
	}
	for _, c := range n.Content {
		curlyValues(name, c, ps)
	}
}

// scanLine is one line of a YAML file as the scanners see it.
type scanLine struct {
	no     int    // 1-based
	indent int    // leading spaces
	body   string // the line without its indentation
}

// contentLines lists the lines that hold keys, list items or text outside
// block texts (answer: |), skipping blank lines, comments, block-text lines
// and the lines of flow lists that span lines.
func contentLines(data []byte) []scanLine {
	var out []scanLine
	block := -1 // indentation of the key whose block text is open
	depth := 0  // open [ or { of a flow list spanning lines
	for i, raw := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		body := strings.TrimLeft(raw, " ")
		l := scanLine{no: i + 1, indent: len(raw) - len(body), body: strings.TrimRight(body, " \t")}
		if l.body == "" {
			continue
		}
		if block >= 0 {
			if l.indent > block {
				continue
			}
			block = -1
		}
		if strings.HasPrefix(l.body, "#") || l.body == "---" {
			continue
		}
		if depth > 0 {
			depth += flowDepth(l.body)
			continue
		}
		out = append(out, l)
		depth = max(flowDepth(l.body), 0)
		if v := value(l.body); v == "|" || v == ">" || strings.HasPrefix(v, "|-") || strings.HasPrefix(v, "|+") || strings.HasPrefix(v, ">-") || strings.HasPrefix(v, ">+") {
			block = l.indent
			if strings.HasPrefix(l.body, "- ") {
				block += 2
			}
		}
	}
	return out
}

// value is what follows "key: " (or "- ") on a line, without a comment.
func value(body string) string {
	body = strings.TrimPrefix(body, "- ")
	if i := strings.Index(body, ": "); i >= 0 {
		body = body[i+2:]
	} else if strings.HasSuffix(body, ":") {
		return ""
	}
	return strings.TrimSpace(withoutComment(body))
}

// withoutComment cuts a " #" comment from a value, but not a # inside
// quotes ("before baby #2").
func withoutComment(v string) string {
	var q byte
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case q == '"' && c == '\\':
			i++
		case q != 0 && c == q:
			if q == '\'' && i+1 < len(v) && v[i+1] == '\'' { // '' inside '...'
				i++
				continue
			}
			q = 0
		case q != 0:
		case (c == '"' || c == '\'') && (i == 0 || v[i-1] == ' ' || v[i-1] == '[' || v[i-1] == ','):
			q = c
		case c == '#' && i > 0 && v[i-1] == ' ':
			return v[:i-1]
		}
	}
	return v
}

// flowDepth counts the [ and { a line opens minus those it closes, outside quotes.
func flowDepth(body string) int {
	v := value(body)
	if v == "" || (v[0] != '[' && v[0] != '{') {
		return 0
	}
	d := 0
	var q byte
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '[' || c == '{':
			d++
		case c == ']' || c == '}':
			d--
		}
	}
	return d
}

// isKey says whether a line's body is "key:" or "key: value".
func isKey(body string) bool {
	body = strings.TrimPrefix(body, "- ")
	i := strings.Index(body, ":")
	if i <= 0 || (i+1 < len(body) && body[i+1] != ' ') {
		return false
	}
	k := body[:i]
	return !strings.ContainsAny(k, " \"'[{") || (len(k) > 1 && (k[0] == '"' || k[0] == '\''))
}

// unclosedQuote finds a value that opens a quote and does not close it on
// its line; the library then reads on and gives up far below.
func unclosedQuote(name string, data []byte) (Problem, bool) {
	for _, l := range contentLines(data) {
		v := value(l.body)
		if v == "" || (v[0] != '"' && v[0] != '\'') {
			continue
		}
		q := v[0]
		closed := false
		for i := 1; i < len(v); i++ {
			if q == '"' && v[i] == '\\' {
				i++
				continue
			}
			if v[i] == q {
				if q == '\'' && i+1 < len(v) && v[i+1] == '\'' { // '' is a quote inside '...'
					i++
					continue
				}
				closed = true
				break
			}
		}
		col := l.indent + strings.Index(l.body, v) + 1
		if !closed {
			return Problem{Pos: Position{name, l.no, col}, Message: fmt.Sprintf("the quote (%c) opened here is not closed on this line; add %c at the end of the text", q, q)}, true
		}
		if rest := strings.TrimSpace(v[closedAt(v, q)+1:]); rest != "" && !strings.HasPrefix(rest, "#") && !strings.HasPrefix(rest, ",") && !strings.HasPrefix(rest, "]") && !strings.HasPrefix(rest, "}") {
			msg := "the text goes on after its closing quote; to put a \" inside \"...\", write \\\" (or use ' ... ' around the text)"
			if q == '\'' {
				msg = "the text goes on after its closing quote; to put an apostrophe inside '...', write it twice ('') or use \"...\" around the text"
			}
			return Problem{Pos: Position{name, l.no, col}, Message: msg}, true
		}
	}
	return Problem{}, false
}

// closedAt is the index of the quote closing v, which opens with q.
func closedAt(v string, q byte) int {
	for i := 1; i < len(v); i++ {
		if q == '"' && v[i] == '\\' {
			i++
			continue
		}
		if v[i] == q {
			if q == '\'' && i+1 < len(v) && v[i+1] == '\'' {
				i++
				continue
			}
			return i
		}
	}
	return len(v) - 1
}

// indentProblem finds the first line whose indentation no line above
// explains: deeper than the line above without that line opening a block,
// or between the levels in use. A text paragraph indented less than its
// text above is named as such.
func indentProblem(name string, data []byte) (Problem, bool) {
	lines := contentLines(data)
	var stack []int          // indentation of the open levels
	dashes := map[int]bool{} // levels opened by a "- " line: every line there is one
	opens := false           // the line above ends with "key:" and opens a level
	wasBlock := false
	for _, l := range lines {
		top := -1
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		at := Position{name, l.no, l.indent + 1}
		switch {
		case l.indent > top && (opens || top < 0):
			stack = append(stack, l.indent)
			dashes[l.indent] = strings.HasPrefix(l.body, "- ")
		case l.indent > top:
			if !isKey(l.body) && !strings.HasPrefix(l.body, "- ") {
				opens, wasBlock = false, false
				continue // a plain text running on from the line above
			}
			return Problem{Pos: at, Message: fmt.Sprintf("this line is indented more (%d spaces) than the line above (%d), which does not open a new level; line it up with the keys above it", l.indent, top)}, true
		default:
			for len(stack) > 0 && stack[len(stack)-1] > l.indent {
				stack = stack[:len(stack)-1]
			}
			if len(stack) == 0 || stack[len(stack)-1] != l.indent {
				return Problem{Pos: at, Message: fmt.Sprintf("this line is indented %d space(s), which matches no line above it; line it up exactly with the keys of its entry (or its '- ')", l.indent)}, true
			}
			if dashes[l.indent] && !strings.HasPrefix(l.body, "- ") && l.body != "-" {
				return Problem{Pos: at, Message: fmt.Sprintf("this line is indented like the '- ' of the entries (%d spaces) but does not start with '- '; if it belongs to the entry above, indent it %d spaces like that entry's keys", l.indent, l.indent+2)}, true
			}
		}
		if strings.HasPrefix(l.body, "- ") {
			// a new entry: the levels inside the previous one are closed
			for len(stack) > 0 && stack[len(stack)-1] > l.indent {
				stack = stack[:len(stack)-1]
			}
		}
		if !isKey(l.body) && !strings.HasPrefix(l.body, "- ") {
			if wasBlock {
				return Problem{Pos: at, Message: "this line is indented less than the text above it, so it is no longer part of that text (answer: | and the like); indent it exactly like the text's first line"}, true
			}
			return Problem{Pos: at, Message: "this line is neither 'key: value' nor '- item'; if it belongs to the text above, indent it like that text, or put it in quotes"}, true
		}
		if strings.HasPrefix(l.body, "- ") && isKey(l.body) {
			// the item's keys stand two columns right of its dash
			stack = append(stack, l.indent+2)
		}
		v := value(l.body)
		opens = v == "" && strings.HasSuffix(l.body, ":")
		wasBlock = strings.HasPrefix(v, "|") || strings.HasPrefix(v, ">")
	}
	return Problem{}, false
}

// indentErrors are the library's messages for an indentation it cannot follow.
var indentErrors = []string{"did not find expected key", "did not find expected '-' indicator", "could not find expected ':'", "block sequence entries are not allowed", "did not find expected node content"}

var keyNoSpaceRe = regexp.MustCompile(`^(?:- )?([a-z_]+):([^\s/].*)$`)

// SyntaxProblem explains why data (a YAML file named name) could not be
// read, at the line to change, in a maintainer's words: for other YAML
// files such as an examples file. err is the YAML library's error, or nil
// to check only the encoding. ok is false when there is nothing to say.
func SyntaxProblem(name string, data []byte, err error) (p Problem, ok bool) {
	if p, ok := encodingProblem(name, data); ok {
		return p, true
	}
	if err == nil {
		return Problem{}, false
	}
	return syntaxProblem(name, data, err), true
}

// syntaxProblem explains a YAML syntax error at the line to change.
func syntaxProblem(name string, data []byte, err error) Problem {
	if p, ok := tabProblem(name, data); ok {
		return p
	}
	if p, ok := unclosedQuote(name, data); ok {
		if h := curlyHint(lineAt(data, p.Pos.Line)); h != "" {
			p.Message = h
		}
		return p
	}
	if strings.Contains(err.Error(), "did not find expected ',' or ']'") {
		for _, l := range contentLines(data) {
			if flowDepth(l.body) > 0 {
				return Problem{Pos: Position{name, l.no, l.indent + strings.IndexAny(l.body, "[{") + 1}, Message: "the list opened here with [ is not closed; add ] at the end of the line (and check the commas)"}
			}
		}
	}
	for _, l := range contentLines(data) {
		at := Position{name, l.no, l.indent + 1}
		if len(l.body) > 1 && l.body[0] == '-' && l.body[1] != ' ' && l.body[1] != '-' && isKey(l.body[1:]) {
			return Problem{Pos: at, Message: fmt.Sprintf("a '-' that starts an entry needs a space after it: write '- %s'", l.body[1:])}
		}
		if m := keyNoSpaceRe.FindStringSubmatch(l.body); m != nil {
			return Problem{Pos: at, Message: fmt.Sprintf("a key needs a space after its ':': write '%s: %s'", m[1], m[2])}
		}
		if flowDepth(l.body) < 0 {
			return Problem{Pos: Position{name, l.no, l.indent + strings.LastIndexAny(l.body, "]}") + 1}, Message: "this line closes a list with ] (or }) once too often; remove the extra one"}
		}
	}
	p := yamlProblem(name, err.Error())
	if strings.Contains(err.Error(), "block sequence entries are not allowed") {
		line := lineAt(data, p.Pos.Line)
		if i := strings.Index(line, ": - "); i >= 0 {
			p.Pos.Col = i + 3
			p.Message = "a list cannot start on the same line as its key; write it as [a, b] on this line, or put each '- item' on its own line below, indented"
			return p
		}
	}
	if strings.Contains(err.Error(), "mapping values are not allowed") && curlyHint(lineAt(data, p.Pos.Line)) == "" {
		if ip, ok := indentProblem(name, data); ok && ip.Pos.Line == p.Pos.Line {
			return ip
		}
	}
	if h := curlyHint(lineAt(data, p.Pos.Line)); h != "" {
		p.Message = h
		p.Pos.Col = curlyCol(lineAt(data, p.Pos.Line))
		return p
	}
	if strings.Contains(err.Error(), "mapping values are not allowed") && p.Pos.Col == 1 {
		// point at the colon inside the text: the one after the key's
		line := lineAt(data, p.Pos.Line)
		if k := strings.Index(line, ": "); k >= 0 {
			if c := strings.Index(line[k+2:], ": "); c >= 0 {
				p.Pos.Col = utf8.RuneCountInString(line[:k+2+c]) + 1
			}
		}
	}
	for _, e := range indentErrors {
		if strings.Contains(err.Error(), e) {
			if ip, ok := indentProblem(name, data); ok {
				if h := curlyHint(lineAt(data, ip.Pos.Line)); h != "" {
					ip.Message = h
				}
				return ip
			}
			break
		}
	}
	return p
}

// curlyCol is the column of the first curly quote on a line.
func curlyCol(line string) int {
	i := strings.IndexAny(line, curlyQuotes)
	return utf8.RuneCountInString(line[:max(i, 0)]) + 1
}

func lineAt(data []byte, n int) string {
	lines := strings.Split(string(data), "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return lines[n-1]
}
