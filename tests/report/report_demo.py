"""Text a careless (or hostile) user typed into the knowledge base: it must come out escaped."""

HOSTILE_UDR = "<script>alert('udr')</script> Win rate was 24 % in Q3 & fell"
HOSTILE_CAUSE = 'Pricing "approval" <b>waits</b> for the CFO'

HEARD: list[tuple[str, int, int]] = []  # what the report fixture's progress callback was told
