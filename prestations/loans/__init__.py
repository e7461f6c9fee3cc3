"""Social loans: a kind of prestation whose money comes back (schedule, mandate, direct debits)."""
