"""Article paragraphs for fixtures: several sentences each, as a page would hold them."""

TERMINAL = (
    "The harbour authority announced on Monday that the old ferry terminal will be demolished next year to make "
    "room for a new passenger building with space for two ships at once."
)
FOUNDATIONS = (
    "Engineers found that the foundations of the terminal had been weakened by decades of salt water, and repairs "
    "would have cost almost as much as a completely new structure."
)
PIER = (
    "Ferry passengers will use a temporary pier on the western side of the bay while the work goes on, and the "
    "operator has promised extra shuttle buses from the railway station."
)
FISHERMEN = (
    "Local fishermen say they are worried that the construction work will block access to the northern quay for "
    "most of the summer season, when their catch is largest."
)
MARKET = (
    "Traders at the fish market on the quay said they had not been consulted about the plans, and several of them "
    "asked the council for a meeting before the demolition date is fixed."
)
