"""Charts in the Cost tab (issue 14 item 2): the core chart module, a PNG in an Image widget."""

from __future__ import annotations

from modeldeck.testing import Stack
from modeldeck_jupyter import Deck
from modeldeck_jupyter.panel import COST_TAB

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_the_cost_tab_draws_the_spend_as_a_png(auto_stack: Stack) -> None:
    assert auto_stack.deck is not None
    panel = Deck(auto_stack.deck, user="bob", auto_refresh=False)
    try:
        assert panel.costs.chart.layout.display == "none"  # nothing drawn before the tab opens
        panel.tabs.selected_index = COST_TAB
        result = panel.costs.last_result
        assert result is not None, panel.costs.last_error
        assert bytes(panel.costs.chart.value).startswith(PNG_MAGIC)
        assert panel.costs.chart.layout.display is None
        chart = panel.costs.last_chart
        assert chart is not None
        assert chart.actual[-1].amount == result.report.total  # the same exact total
        assert chart.currency == result.report.currency
    finally:
        panel.close()
