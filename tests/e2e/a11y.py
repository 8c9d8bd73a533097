"""Run axe-core (vendored: tests/e2e/vendor/axe-4.14.1.min.js, MPL-2.0) on a Playwright page."""

from pathlib import Path

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-4.14.1.min.js").read_text()
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Violations accepted on purpose, with the reason. Keep this list short.
ACCEPTED = {
    # rule id: reason
}


def serious_violations(page):
    """Serious or critical WCAG 2.1 A/AA violations on the current page, minus accepted ones."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA
    )
    found = []
    for violation in result["violations"]:
        if violation["impact"] not in ("serious", "critical") or violation["id"] in ACCEPTED:
            continue
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:5]]
        found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} – {targets}")
    return found
