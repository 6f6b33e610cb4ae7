"""Free-text request descriptions, written from a few phrase banks per topic.

A description is an opener, a core sentence naming the product, a detail and a closing, each
picked at random, so every topic reads in many ways while its vocabulary stays recognisable
(the ground truth a later clustering of uncategorised requests should recover).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["CATEGORY", "TOPICS", "describe"]

# topic -> the category name a department would file it under
CATEGORY = {
    "pricing": "pricing and quotes",
    "contract": "contract changes",
    "delivery": "delivery status",
    "support": "technical support",
    "billing": "invoices and billing",
    "product": "product information",
}
TOPICS = tuple(CATEGORY)

_OPENERS = (
    "Hi, ", "Hello team, ", "Quick question: ", "Good morning, ", "", "", "Urgent: ",
    "Following up on our call, ", "Customer asks: ", "Hi all, ",
)  # fmt: skip
_CLOSERS = (
    "", "", " Thanks!", " Thanks in advance.", " Please advise.", " Need this by Friday.",
    " Customer is waiting.", " Can someone help?", " Best regards.",
)  # fmt: skip

_CORES: dict[str, tuple[str, ...]] = {
    "pricing": (
        "could you send an updated quote for {p}",
        "we need a price for {p} with more licences",
        "the customer wants a volume discount on {p}",
        "please check the pricing on our {p} quote",
        "can we get a revised offer for {p}",
        "what is the list price of {p} for three years",
    ),
    "contract": (
        "the customer wants to change the contract terms for {p}",
        "legal asked for an amendment to the {p} agreement",
        "please update the liability clause in the {p} contract",
        "they want to extend the notice period in the {p} contract",
        "we need a contract change: new billing entity for {p}",
        "procurement sent redlines on the {p} master agreement",
    ),
    "delivery": (
        "when will the {p} order be delivered",
        "what is the shipping status of the {p} order",
        "the {p} delivery is late, any tracking number",
        "has the {p} shipment left the warehouse",
        "customer asks for the delivery date of {p}",
        "the {p} order still shows as not shipped",
    ),
    "support": (
        "{p} shows an error after the last update",
        "users cannot log in to {p}",
        "the {p} integration stopped syncing",
        "{p} is very slow since this morning",
        "need help configuring {p} for a new team",
        "a bug in {p} blocks the export",
    ),
    "billing": (
        "the invoice for {p} has the wrong amount",
        "please resend the {p} invoice with the PO number",
        "customer was billed twice for {p}",
        "we need a credit note for the {p} invoice",
        "the payment for {p} was rejected, please check billing",
        "can the {p} invoice go to a different address",
    ),
    "product": (
        "does {p} support single sign-on",
        "can you send the {p} data sheet",
        "what are the differences between {p} editions",
        "is there a demo video of {p}",
        "does {p} integrate with our ERP",
        "what are the system requirements for {p}",
    ),
}
# Each detail names its topic in words people use for it ("quote", "invoice", "ticket"), so a
# request's topic shows in its vocabulary even when its core sentence is a one-off phrasing.
_DETAILS: dict[str, tuple[str, ...]] = {
    "pricing": (" before the budget meeting, the price matters.", " for the renewal quote.", ", discount approval needed.", ", price in EUR please.", ", the quote is needed this week."),
    "contract": (" before contract signature.", ", their lawyer is waiting on the contract.", " for the renewal contract.", ", see attached contract redlines.", ", legal needs the contract terms."),
    "delivery": (" for the go-live next week, delivery is critical.", ", the site is waiting for the delivery.", " as promised in the delivery plan.", ", delivery tracking please.", ", please share the delivery tracking."),
    "support": (", all users get the error.", ", support ticket attached.", " since yesterday, support ticket open.", ", error logs attached for support.", ", production is affected, support please help."),
    "billing": (" for last month's invoice.", ", finance is asking about the invoice.", " with VAT shown on the invoice.", ", billing contact in copy.", ", invoice payment is on hold."),
    "product": (" before the evaluation, product details please.", " for the IT review of the product.", ", product documentation would help.", " for their security team's product review.", ", product questions from the trial."),
}  # fmt: skip


def _bank(parts: dict[str, tuple[str, ...]], products: tuple[str, ...] | None):
    """One flat string array for all topics, with each topic's offset and count."""
    texts: list[str] = []
    offsets, counts = [], []
    for topic in TOPICS:
        items = parts[topic]
        if products is not None:
            items = tuple(c.format(p=p) for c in items for p in products)
        offsets.append(len(texts))
        counts.append(len(items))
        texts.extend(items)
    return pa.array(texts), np.array(offsets), np.array(counts)


def describe(rng: np.random.Generator, topic: np.ndarray, products: tuple[str, ...]) -> pa.Array:
    """Descriptions for requests with topic codes ``topic`` (indices into :data:`TOPICS`)."""
    n = len(topic)
    cores, c_off, c_cnt = _bank(_CORES, products)
    details, d_off, d_cnt = _bank(_DETAILS, None)
    core = cores.take(pa.array(c_off[topic] + (rng.random(n) * c_cnt[topic]).astype(np.int64)))
    detail = details.take(pa.array(d_off[topic] + (rng.random(n) * d_cnt[topic]).astype(np.int64)))
    opener = pa.array(_OPENERS).take(pa.array(rng.integers(0, len(_OPENERS), n)))
    closer = pa.array(_CLOSERS).take(pa.array(rng.integers(0, len(_CLOSERS), n)))
    # A sentence without an opener starts with a capital letter.
    capital = pc.binary_join_element_wise(
        pc.utf8_upper(pc.utf8_slice_codeunits(core, 0, 1)), pc.utf8_slice_codeunits(core, 1), ""
    )
    core = pc.if_else(pc.equal(opener, ""), capital, core)
    return pc.binary_join_element_wise(opener, core, detail, closer, "")
