"""Seeded request logs with known topics, written the way people type requests to a back office.

Each log draws 3–7 topics from :data:`VOCABULARIES` with uneven sizes. A request is built from its
topic's phrases and keywords, words every topic shares (``order``, ``customer``, ``account``),
greetings and sign-offs, and a product name or a number; lengths run from a terse four words
to a rambling paragraph, and about one word in twelve has a typo (a letter dropped, doubled or
swapped). ``topic`` is the ground truth a theme finder should recover
(tests/analysis/test_request_patterns.py, benchmarks/bench_themes.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

VOCABULARIES: dict[str, dict[str, list[str]]] = {
    "billing": {
        "phrases": ["the invoice shows the wrong amount", "we were charged twice",
                    "please send a credit note", "the payment was rejected",
                    "resend the invoice with the po number", "vat is missing on the invoice"],
        "words": ["invoice", "billing", "payment", "charged", "credit", "refund", "vat",
                  "overdue", "receipt", "statement"],
    },
    "pricing": {
        "phrases": ["can we get a better price", "please send an updated quote",
                    "the customer asks for a volume discount", "what is the list price",
                    "discount approval is needed", "revise the offer for three years"],
        "words": ["price", "quote", "discount", "pricing", "offer", "margin", "rebate",
                  "licences", "tier", "budget"],
    },
    "contract": {
        "phrases": ["legal wants changes to the terms", "please update the liability clause",
                    "they sent redlines on the agreement", "extend the notice period",
                    "the nda needs a signature", "the renewal terms must change"],
        "words": ["contract", "legal", "clause", "terms", "agreement", "signature", "nda",
                  "lawyer", "amendment", "redlines"],
    },
    "delivery": {
        "phrases": ["when will the order be delivered", "the shipment is late",
                    "please share the tracking number", "has it left the warehouse",
                    "the courier did not arrive", "the delivery date slipped again"],
        "words": ["delivery", "shipping", "tracking", "courier", "shipment", "warehouse",
                  "dispatch", "parcel", "delayed", "arrive"],
    },
    "support": {
        "phrases": ["users cannot log in", "the integration stopped syncing",
                    "there is an error after the update", "the export fails with a timeout",
                    "single sign on is broken", "the app is very slow today"],
        "words": ["error", "login", "bug", "integration", "crash", "timeout", "sso", "sync",
                  "password", "outage"],
    },
    "product": {
        "phrases": ["does it integrate with our erp", "can you send the data sheet",
                    "what are the system requirements", "is there a demo video",
                    "which edition has reporting", "what features are on the roadmap"],
        "words": ["feature", "datasheet", "requirements", "demo", "edition", "roadmap",
                  "specs", "brochure", "comparison", "capabilities"],
    },
    "onboarding": {
        "phrases": ["the new team needs training", "please schedule the kickoff workshop",
                    "we need help setting up accounts for new users", "who runs the onboarding",
                    "can we book a training session", "the rollout plan is unclear"],
        "words": ["training", "onboarding", "kickoff", "workshop", "setup", "rollout",
                  "session", "trainer", "webinar", "handbook"],
    },
}  # fmt: skip
SHARED = ["order", "customer", "account", "please", "asap", "urgent", "update", "team", "request",
          "issue", "question", "today", "again", "help", "check"]  # fmt: skip
OPENERS = ["hi", "hello team", "good morning", "quick question", "following up", "hey", "dear all"]
CLOSERS = ["thanks", "thank you", "best regards", "cheers", "please advise", "many thanks"]
PRODUCTS = ["Core", "Plus", "Enterprise", "Starter", "Analytics"]


def request_log(seed: int, n: int = 600) -> pd.DataFrame:
    """``n`` requests (``request_id``, ``description``, ``topic``) over 3–7 seeded topics."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 8))
    topics = list(rng.choice(sorted(VOCABULARIES), k, replace=False))
    weights = rng.dirichlet(np.full(k, 3.0))
    topic = rng.choice(topics, n, p=weights)
    texts = [_text(rng, VOCABULARIES[t]) for t in topic]
    return pd.DataFrame(
        {"request_id": [f"R{i:05d}" for i in range(n)], "description": texts, "topic": topic}
    )


def as_requests(log: pd.DataFrame) -> pd.DataFrame:
    """The log as :func:`salesflow.analysis.request_patterns.load_requests` gives it: all
    uncategorised, one request an hour from 2025-01-01."""
    return log.assign(
        category=None,
        opportunity_id=None,
        received_at=pd.Timestamp("2025-01-01") + pd.to_timedelta(range(len(log)), unit="h"),
    )


def _text(rng: np.random.Generator, vocab: dict[str, list[str]]) -> str:
    length = int(rng.choice([1, 2, 3], p=[0.35, 0.45, 0.2]))  # sentences of content
    parts: list[str] = []
    if rng.random() < 0.6:
        parts.append(str(rng.choice(OPENERS)))
    for _ in range(length):
        if rng.random() < 0.6:
            parts.append(str(rng.choice(vocab["phrases"])))
        words = list(rng.choice(vocab["words"], int(rng.integers(1, 4)), replace=False))
        words += list(rng.choice(SHARED, int(rng.integers(1, 4)), replace=False))
        rng.shuffle(words)
        parts.append(" ".join(words))
    if rng.random() < 0.5:
        parts.append(f"{rng.choice(PRODUCTS)} order {int(rng.integers(1000, 99999))}")
    if rng.random() < 0.5:
        parts.append(str(rng.choice(CLOSERS)))
    return ", ".join(" ".join(_typo(rng, w) for w in p.split()) for p in parts)


def _typo(rng: np.random.Generator, word: str) -> str:
    """About one word in twelve loses, doubles or swaps a letter."""
    if len(word) < 4 or rng.random() > 1 / 12:
        return word
    i = int(rng.integers(1, len(word) - 1))
    kind = int(rng.integers(0, 3))
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
