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

# Independent rewordings of TERMINAL, lexically apart from it and from each other: the rewrites a dozen
# sites publish from one source.
TERMINAL_RETOLD = [
    "Port officials revealed this week a plan to tear down the ageing ferry building and put up a larger hall.",
    "Next year the crumbling boat station goes, making way for a modern hall where two vessels can dock together.",
    "Harbour bosses confirmed the shabby ferry depot is coming down so that a roomier twin berth complex can rise.",
    "A bigger passenger facility able to take a pair of ships simultaneously will replace the demolished old station.",
    "Demolition crews are due at the outdated ferry hall, which planners intend to swap for a spacious double dock.",
    "Authorities at the port plan to raze the former boat terminal and erect new premises serving twin vessels.",
    "The tired waterfront depot faces the wrecking ball as officials pursue a larger home for passenger shipping.",
    "Planners intend to flatten the decades-old ferry building and construct a facility berthing two boats at once.",
    "Looking back, the port board chose to knock down its weathered ferry shed in favour of a two-berth hall.",
    "That decision to bulldoze the creaking ferry depot paved the way for a hall hosting twin sailings.",
    "Residents recall how the outworn boat terminal was cleared for a passenger building serving two ships.",
    "Since the ferry house came down, a grander waterfront complex has welcomed pairs of ships side by side.",
    "Years on, locals still debate demolishing the ramshackle ferry terminal to build a twin berth facility.",
]
