"""UDR lint: helps a manager turn a complaint into a precise, measurable Undesirable Result.

A good UDR is an *effect* someone can observe in the data ("38% of proposals waited more than
10 days for pricing approval in Q3"), kept apart from a cause ("because pricing is slow") and
from a solution in disguise ("we need a CPQ tool"). The lint is advice, not a gate: it is
rule-based (small word lists and regexes, documented below and in docs/method.md),
deterministic, needs no network, and checks thousands of statements per second.

Rules, in one line each:

- ``SOLUTION``: a prescription ("we need", "should hire", "want a new…") or an absent solution
  ("lack of training", "we lack a sales methodology, so…", "no pricing tool"). "no/without/missing + tool" counts only when the
  statement has no quantity, so "31% of deals had no mutual action plan in Q3" stays clean.
- ``CAUSE``: a causal connective ("because", "due to", "as a result of", "caused by", "owing to",
  "driven by"…) or "since" followed by a present-tense clause ("since nobody owns renewals");
  "since March" and "since we moved to the new CRM" are time frames.
- ``VAGUE``: an evaluative word ("poor", "slow", "too many", "low", "often") in a statement
  with no quantity.
- ``UNMEASURED``: no quantity (a number, a share, "half", "twice") or no time frame (a quarter,
  month, year, "last 90 days", "per week", "since January").
- ``BLAME``: an attitude or a person's character ("lazy", "doesn't care", "arrogant"), or a
  verdict on someone's work ("marketing leads are garbage").
- ``COMPOUND``: two clauses, each with its own subject and verb, joined by "and", "while",
  "but" or ";" in the effect part of the statement.

``measurable`` is true when the statement has a quantity and a time frame and no SOLUTION, CAUSE
or BLAME finding (VAGUE and COMPOUND are advice that does not make it unobservable).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CODES", "SHAPE", "Finding", "LintResult", "lint"]

CODES = ("SOLUTION", "CAUSE", "VAGUE", "UNMEASURED", "BLAME", "COMPOUND")
SHAPE = "<measure> was <value><unit> in <period>, against <expected>"


@dataclass(frozen=True)
class Finding:
    """One problem in a statement: its code, why it matters, and the shape of a better one."""

    code: str
    message: str
    suggestion: str


@dataclass(frozen=True)
class LintResult:
    """The statement, whether the data could confirm it as written, and what to improve."""

    statement: str
    measurable: bool
    findings: list[Finding] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        """The ``udr lint --json`` entry for this statement."""
        return {
            "statement": self.statement,
            "measurable": self.measurable,
            "findings": [
                {"code": f.code, "message": f.message, "suggestion": f.suggestion}
                for f in self.findings
            ],
        }


def _words(*items: str) -> str:
    return "|".join(items)


# fmt: off
# --- word lists ---------------------------------------------------------------------------------
# Things an organisation can buy, build, hire or write: "no <one of these>" is an absent solution.
SOLUTION_NOUNS = _words(
    r"crm", r"cpq", r"tools?", r"tooling", r"systems?", r"software", r"platforms?",
    r"process(es)?", r"playbooks?", r"training", r"coaching", r"enablement", r"plans?",
    r"methodology", r"dashboards?", r"templates?", r"automation", r"budget", r"headcount",
    r"resources", r"polic(y|ies)", r"programm?e?s?", r"strategy", r"framework", r"documentation",
    r"guidelines", r"integrations?", r"visibility", r"reporting", r"insights?", r"[sb]drs?",
    r"ses", r"(solution|sales) engineers?", r"deal desk", r"incentives?", r"spiffs?", r"scripts?",
    r"checklists?", r"sales ops", r"analysts?", r"staff", r"onboarding", r"ownership model",
    r"sla", r"routing",
)
# Words that open a prescription: "we need a", "should hire", "want a new".
PRESCRIPTION_VERBS = _words(
    "hire", "buy", "get", "implement", "introduce", "build", "create", "add", "invest", "adopt",
    "use", "roll", "train", "start", "stop", "move", "switch", "replace", "change", "offer",
    "give", "provide", "set", "make", "focus", "automate", "restructure", "reorgani[sz]e",
    "standardi[sz]e", "centrali[sz]e", "enforce", "simplify", "outsource", "launch", "deploy",
    "upgrade", "migrate", "require", "incentivi[sz]e", "pay", "double", "raise", "cut",
)
# Evaluative words: a judgement, not a quantity (only flagged when no number is given).
VAGUE_WORDS = _words(
    r"poor(ly)?", r"slow(ly|er)?", r"low(er)?(?![- ](touch|end|value|hanging))", r"bad(ly)?",
    r"weak(er)?", r"often", r"frequently", r"sometimes", r"rarely", r"seldom", r"constantly",
    r"too \w+", r"way too", r"a lot", r"lots of", r"many", r"most", r"few", r"several", r"tons of",
    r"huge", r"massive", r"high(er)?(?![- ](value|touch|end|intent|velocity|growth))", r"terrible",
    r"awful", r"horrible", r"abysmal", r"dismal", r"inconsistent(ly)?", r"messy", r"chaotic",
    r"unreliable", r"inaccurate", r"inefficient", r"ineffective", r"excessive(ly)?",
    r"significant(ly)?", r"forever", r"ages", r"endless(ly)?", r"long(er)?(?![- ]term)",
    r"(is|are|was|were|always|often|running|too) late", r"out of control", r"not enough",
    r"insufficient", r"struggl\w+", r"underperform\w*", r"worse", r"worst", r"not (great|good)",
    r"suboptimal", r"unacceptable", r"painful", r"a mess", r"all over the place", r"hit or miss",
    r"leaky", r"sluggish", r"wrong", r"broken", r"bottlenecks?", r"overwhelmed", r"overloaded",
    r"swamped", r"stretched( thin)?", r"(a )?waste of time", r"wasted?", r"nightmare", r"disaster",
    r"a joke", r"clunky", r"confusing", r"complicated", r"too complex", r"difficult", r"hard to",
    r"unclear", r"not clear", r"unpredictable", r"under-?deliver\w*", r"erratic", r"volatile",
    r"patchy", r"spotty", r"mediocre", r"sub-?par", r"lacklust(er|re)", r"disappointing",
)
# Attitudes and character: not observable, and they put people on the defensive.
BLAME_WORDS = _words(
    r"lazy", r"laziness", r"(un|de)motivated", r"(don'?t|doesn'?t|do not|does not|couldn'?t) care",
    r"careless", r"arrogan(t|ce)", r"incompeten(t|ce)", r"clueless", r"useless", r"hopeless",
    r"stubborn", r"greedy", r"entitled", r"complacen(t|cy)", r"sandbag\w*", r"cherry[- ]pick\w*",
    r"(lack of|no) (accountability|ownership|discipline|urgency|sense of urgency|motivation|"
    r"commitment|effort|respect|trust|hustle)", r"undisciplined", r"disorgani[sz]ed", r"attitude",
    r"mindset", r"resist(ant)? (to )?change", r"refuses? to", r"(won'?t|don'?t|doesn'?t) listen",
    r"(don'?t|doesn'?t) bother", r"can'?t be bothered", r"(don'?t|doesn'?t) want to",
    r"not interested in", r"only cares? about", r"(don'?t|doesn'?t) trust", r"distrust", r"fault",
    r"selfish", r"dishonest", r"unprofessional", r"sloppy", r"not hungry", r"aren'?t hungry",
    r"greed", r"hate[sd]?", r"(don'?t|doesn'?t) respect", r"egos?", r"excuses",
    r"finger[- ]pointing", r"not committed", r"toxic", r"micromanag\w+", r"political",
    r"whin(e|es|ing)", r"garbage", r"junk", r"trash", r"rubbish", r"crap(py)?", r"worthless",
)
CAUSE_PHRASES = _words(
    r"because", r"due to(?! (close|renew|expire|sign|start|be|go|land|book)\b)",
    r"as an? (direct )?(result|consequence) of", r"caused by", r"owing to", r"driven by",
    r"thanks to", r"on account of", r"(results?|resulted|resulting) from",
    r"stem(s|med|ming)? from", r"the reason (is|why|being)",
    r"(which|that'?s|that is|this is) why", r"hence", r"therefore", r"(results?|resulting) in",
    r"causes", r"causing", r"given that", r"blame (it )?on", r"is the reason",
)
MONTHS = _words(
    "january", "february", "march", "april", "june", "july", "august", "september", "october",
    "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sept?", "oct", "nov",
    "dec",
)
UNIT = r"(days?|weeks?|months?|quarters?|years?|sprints?)"
NUMBER_WORDS = _words(
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "fifteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
    "ninety", "hundred", "thousand", "dozen", "half", "third", "thirds", "quarter", "twice",
    "doubled", "tripled", "halved", "none", "zero",
)
# Present-tense words that make "since …" a reason rather than a starting point.
PRESENT = _words(
    "is", "are", "isn't", "aren't", "has", "have", "hasn't", "haven't", "do", "does", "don't",
    "doesn't", "can", "can't", "cannot", "won't", "never", "keeps?", "lacks?", "only", "owns",
    "needs?", "wants?", "takes?",
)
# Verbs that carry an effect; two clauses with one each make a COMPOUND statement.
# Irregular forms and auxiliaries are listed as they are; regular verbs as stems (all forms),
# and stems that are also sales nouns ("discount", "quote", "close") only in their past form.
EFFECT_IRREGULAR = (
    "is", "are", "was", "were", "isn't", "aren't", "wasn't", "weren't", "has", "have", "had",
    "hasn't", "haven't", "does", "did", "don't", "doesn't", "didn't", "can't", "cannot", "won't",
    "never", "fell", "falls", "rose", "rises", "grew", "grows", "went", "goes", "go", "takes?",
    "took", "taking", "lost", "loses", "spent", "spends", "sat", "sits", "gets?", "got", "hit",
    "hits", "shrank", "shrinks", "came", "comes", "sank", "left", "leaves", "quit", "quits",
    "sent", "won", "held", "ran", "runs",
)
EFFECT_STEMS = (
    "convert", "reject", "rework", "renew", "respond", "escalate", "breach", "exceed", "ignore",
    "cancel", "reschedule", "complain", "fail", "refuse", "wait", "stall", "slip", "miss", "skip",
    "lag", "worsen", "improve", "lengthen", "decline", "plunge", "jump", "climb", "arrive", "stop",
    "reach", "remain", "stay", "receive", "underdeliver", "overrun", "collapse",
)
EFFECT_PAST_ONLY = (
    "discount", "quote", "review", "push", "book", "need", "use", "update", "increase", "decrease",
    "drop", "close", "log", "sign", "approve", "double", "halve", "triple", "end", "churn", "slow",
    "spike", "dip", "stagnate", "flatten", "tank", "shift", "move",
)
# fmt: on


def _forms(stem: str, *, past_only: bool = False) -> str:
    """A regex for a regular verb's forms: stem, -s, -ed, -ing (with a doubled last letter)."""
    root = stem[:-1] if stem.endswith("e") else stem
    past = rf"{root}e?d|{stem}{stem[-1]}ed"
    if past_only:
        return past
    return rf"{stem}s?|{stem}es|{past}|{root}ing|{stem}{stem[-1]}ing"


EFFECT_VERBS = _words(
    *EFFECT_IRREGULAR,
    *(_forms(s) for s in EFFECT_STEMS),
    *(_forms(s, past_only=True) for s in EFFECT_PAST_ONLY),
)


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_NOUN = rf"(?:\w+[- ]){{0,3}}?(?:{SOLUTION_NOUNS})\b"
_SOLUTION_ALWAYS = [
    _rx(
        r"\b(need|needs|require|requires)\s+(a|an|to|more|better|new|some|another|proper|real|"
        r"dedicated|someone|additional|extra|faster|clearer|our own)\b"
    ),
    # "should" prescribes, except "deals that should close" (expected) or "should have closed".
    _rx(r"(?<!that )(?<!which )(?<!who )\bshould\s+(not\s+)?(?!have \w+(ed|en|wn|ne)\b)\w+"),
    _rx(rf"\b(must|have to|has to|ought to|got to)\s+({PRESCRIPTION_VERBS})\b"),
    _rx(
        rf"\b(want|wants|would like|'d like)\s+(a|an|more|better|new|to ({PRESCRIPTION_VERBS}|have))\b"
    ),
    _rx(
        rf"\b(lack of|lacking|absence of|(don'?t|do not|doesn'?t|does not|didn'?t) have|"
        rf"haven'?t got|hasn'?t got|not enough|insufficient|inadequate|no proper|no real|"
        rf"no dedicated|no formal|no standard)\s+{_NOUN}"
    ),
    # "We lack a sales methodology, so…": an absent solution offered as the reason.
    _rx(
        r"\b(we|i|they|the team|our team|the company|sales|reps|managers)\s+"
        r"(lack|lacked|are lacking|were lacking|are missing|miss)\s+"
        rf"(an?\s+|the\s+|any\s+|proper\s+|real\s+|formal\s+)?{_NOUN}"
    ),
    _rx(rf"^\s*(please\s+)?({PRESCRIPTION_VERBS})\b(?!\s+(rate|rates|time|times)\b)"),
    _rx(rf"^\s*(more|better|new|an? new|an? better|a proper)\s+{_NOUN}"),
    _rx(r"\b(would|will|could)\s+(help|fix|solve)\b"),
    _rx(r"\bif (only )?(we|they|reps|the team|sales) (had|could|would)\b"),
    _rx(r"\binvest(ment)? in\b"),
]
_SOLUTION_UNQUANTIFIED = _rx(rf"\b(no|without|missing|there'?s no|there is no)\s+{_NOUN}")
_CAUSE = _rx(rf"\b({CAUSE_PHRASES})\b")
_SINCE_WORD = _rx(r"\bsince\b")
_SINCE = _rx(r"\bsince\b((?:\s+[\w'’-]+){0,5})")
_SINCE_TEMPORAL_START = _rx(
    rf"^\s*(\d|q[1-4]|h[12]|fy|({MONTHS})\b|may\b|last|then|early|mid|late|the (start|beginning|"
    rf"end|launch|new|last|first|reorg|merger|acquisition|switch|move|change))"
)
_SINCE_CAUSAL = _rx(rf"\b({PRESENT})\b|^\s*(nobody|no one|everyone|nothing)\b")
_VAGUE = _rx(rf"\b({VAGUE_WORDS})\b")
_BLAME = _rx(rf"\b({BLAME_WORDS})\b")
_PERIODS = [
    _rx(r"\b(q[1-4]|h[12])\b"),
    _rx(r"\bfy\s?'?\d{2,4}\b|\bfiscal (year|quarter)\b"),
    _rx(r"\b(19|20)\d{2}\b"),
    _rx(rf"\b({MONTHS})\b"),
    _rx(r"\b(in|since|during|through|until|by|from|of|early|mid|late|end of)\s+may\b"),
    _rx(
        r"\b(this|last|previous|past|prior|current|same|next|each|every|per|a|an|the|that)\s+"
        r"(fiscal\s+)?(day|week|month|quarter|year|half|sprint|period|season)\b(?!\s+of\b)"
    ),
    _rx(
        rf"\b(last|past|previous|prior|first|final|trailing|rolling|next|latest)\s+"
        rf"(\d+|\w+)\s+{UNIT}\b"
    ),
    _rx(r"\b(first|second|last|this|next) half\b"),
    _rx(
        r"\b(daily|weekly|monthly|quarterly|annually|yearly|ytd|qtd|mtd|yoy|qoq|"
        r"(year|quarter|month)[- ](over|to)[- ](year|quarter|month|date))\b"
    ),
    _rx(r"\bweek\s+\d+\b|\b\d{4}-\d{2}(-\d{2})?\b|\b\d{1,2}/\d{1,2}(/\d{2,4})?\b"),
    _rx(r"\b(quarter|month|year)[- ]end\b|\bend of (the )?(quarter|month|year)\b"),
]
_NOT_QUANTITY = _rx(r"\b(no|any|every|some)\s*one\b|\bone (of|on one|to one|another)\b")
_QUANTITY = _rx(rf"\d|\b({NUMBER_WORDS})\b")
_JOINERS = _rx(
    r"\s+and\s+(?:also\s+)?|\s*;\s*|,?\s+while\s+|\s+as well as\s+|,?\s+but\s+(?:also\s+)?|"
    r",\s+plus\s+|,\s+whereas\s+"
)
_BETWEEN = _rx(r"\bbetween\s+\S+(\s+\S+)?\s+and\b")
_UNKNOWN = _rx(
    r"\b(and|but)\s+(we|i|nobody|no one)\s+(don'?t|do not|can'?t|cannot)\s+"
    r"(know|explain|understand|tell)\b.*$"
)
_HYPHENATED = _rx(r"\b\w+(-\w+)+\b")
_EFFECT_VERB = _rx(rf"\b({EFFECT_VERBS})\b")


def _since_spans(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Split each "since …" into a time frame (since March) or a reason (since nobody owns it)."""
    temporal, causal = [], []
    for m in _SINCE.finditer(text):
        rest = m.group(1)
        if not _SINCE_TEMPORAL_START.search(rest) and _SINCE_CAUSAL.search(rest):
            causal.append(m.span())
        else:
            first = re.match(r"\s+\S+", rest)
            temporal.append((m.start(), m.start() + 5 + (first.end() if first else 0)))
    return temporal, causal


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _period_spans(text: str, since_temporal: list[tuple[int, int]]) -> list[tuple[int, int]]:
    spans = list(since_temporal)
    for rx in _PERIODS:
        spans.extend(m.span() for m in rx.finditer(text))
    return spans


def _has_quantity(text: str, periods: list[tuple[int, int]]) -> bool:
    rest = _NOT_QUANTITY.sub(" ", _mask(text, periods))
    return bool(_QUANTITY.search(rest))


def _cause_clauses(text: str, causal_since: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans from a causal word to the end of its clause: the part that is not an effect."""
    starts = [m.start() for m in _CAUSE.finditer(text)] + [s for s, _ in causal_since]
    spans = []
    for start in starts:
        comma = text.find(",", start)
        spans.append((start, comma if comma != -1 else len(text)))
    return spans


def _effects(text: str) -> list[str]:
    """Clauses of the effect part that have their own subject and an effect verb."""
    text = _HYPHENATED.sub("x", _UNKNOWN.sub(" ", text))
    parts = _JOINERS.split(_BETWEEN.sub("between", text))
    clauses = [p.strip() for p in parts if p and p.strip() and not _JOINERS.fullmatch(p)]
    found = []
    for i, clause in enumerate(clauses):
        verb = _EFFECT_VERB.search(clause)
        if verb and (i == 0 or verb.start() > 0):
            found.append(clause)
    return found


def _quote(text: str) -> str:
    return f"“{text.strip()}”"


def _phrase(text: str, m: re.Match[str], words: int = 3) -> str:
    """The match and up to ``words`` words after it, within the clause: what to quote back."""
    tail = re.match(rf"(?:[ \t]+[\w'%$€£.-]+){{0,{words}}}", text[m.end() :])
    return _quote(text[m.start() : m.end() + (tail.end() if tail else 0)].rstrip(".,;:"))


def _solution(text: str, quantified: bool) -> Finding | None:
    m = next((m for rx in _SOLUTION_ALWAYS if (m := rx.search(text))), None)
    if m is None and not quantified:
        m = _SOLUTION_UNQUANTIFIED.search(text)
    if m is None:
        return None
    return Finding(
        "SOLUTION",
        f"{_phrase(text, m)} names a solution, or the lack of one, not a result: a missing "
        "solution is never the problem itself, and it closes the discussion on one fix.",
        f"Describe the result you see today instead: {SHAPE}. Keep the idea for an improvement.",
    )


def _cause(text: str, causal_since: list[tuple[int, int]]) -> Finding | None:
    m = _CAUSE.search(text) or (
        _SINCE_WORD.search(text, causal_since[0][0]) if causal_since else None
    )
    if m is None:
        return None
    return Finding(
        "CAUSE",
        f"{_phrase(text, m, 4)} brings in an explanation of why it happens; causes are guesses until "
        "checked, and they belong in the why-analysis, not in the result.",
        f"Keep only the effect ({SHAPE}) and record the cause as a link with `salesflow why`.",
    )


def _vague(text: str, skip: list[tuple[int, int]]) -> Finding | None:
    m = _VAGUE.search(_mask(text, skip))
    if m is None:
        return None
    return Finding(
        "VAGUE",
        f"{_quote(m.group(0))} is a judgement, not a quantity: two people will read it "
        "differently and nobody can tell when it is fixed.",
        f"Replace {_quote(m.group(0))} by the figure you see: {SHAPE}.",
    )


def _unmeasured(quantified: bool, timed: bool) -> Finding | None:
    if quantified and timed:
        return None
    missing = {
        (False, False): "no number and no time frame",
        (False, True): "no number (a count, a share, a duration, an amount)",
        (True, False): "no time frame (a quarter, a month, the last 90 days)",
    }[(quantified, timed)]
    return Finding(
        "UNMEASURED",
        f"It has {missing}, so your data cannot confirm or contradict it.",
        f"Say how much and when: {SHAPE}, e.g. “Win rate was 18% in Q3, against 25% planned”.",
    )


def _blame(text: str) -> Finding | None:
    m = _BLAME.search(text)
    if m is None:
        return None
    return Finding(
        "BLAME",
        f"{_quote(m.group(0))} judges people's attitude or character: nobody can measure it, "
        "and it puts the team on the defensive instead of looking at the system.",
        "Describe what anyone could observe in the records: "
        "“<share> of <deals, calls, requests> had <observable fact> in <period>”.",
    )


def _compound(effect_text: str) -> Finding | None:
    effects = _effects(effect_text)
    if len(effects) < 2:
        return None
    listed = " and ".join(_quote(e) for e in effects[:3])
    return Finding(
        "COMPOUND",
        f"It holds {len(effects)} effects ({listed}); each may have its own causes and measure.",
        f"Split it into one statement per effect, each in the shape {SHAPE}.",
    )


def lint(statement: str) -> LintResult:
    """Check one statement against the UDR rules; advice only, never an error."""
    text = " ".join(statement.replace("’", "'").split())
    since_temporal, since_causal = _since_spans(text)
    periods = _period_spans(text, since_temporal)
    quantified = _has_quantity(text, periods)
    timed = bool(periods)
    solution = _solution(text, quantified)
    solution_spans = [m.span() for rx in _SOLUTION_ALWAYS for m in rx.finditer(text)]
    blame_spans = [m.span() for m in _BLAME.finditer(text)]
    cause_spans = _cause_clauses(text, since_causal)
    candidates = [
        solution,
        _cause(text, since_causal),
        None if quantified else _vague(text, solution_spans + blame_spans),
        _unmeasured(quantified, timed),
        _blame(text),
        _compound(_mask(text, cause_spans)),
    ]
    findings = [f for f in candidates if f is not None]
    blocking = {"SOLUTION", "CAUSE", "BLAME", "UNMEASURED"}
    measurable = not any(f.code in blocking for f in findings)
    return LintResult(statement=statement, measurable=measurable, findings=findings)
