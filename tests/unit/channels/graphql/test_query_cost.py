"""The GraphQL cost a query is charged: what a client asking for more pays more for."""

from __future__ import annotations

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from channels.graphql.limits import query_cost


def cost(query: str) -> int:
    document = parse(query)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return query_cost(operation.selection_set, fragments)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('{ quote(input: {customer: "+1", lines: []}) { total { amount } } }', 3),
        ("{ products(first: 10) { edges { node { sku } } } }", 1 + 10 * 3),
        ("{ products { edges { node { sku } } } }", 1 + 20 * 3),
        ("query($n: Int) { products(first: $n) { edges { node { sku } } } }", 1 + 100 * 3),
        ("{ products(first: 5000) { edges { node { sku } } } }", 1 + 100 * 3),
        ("{ __schema { types { name fields { name } } } }", 0),
    ],
)
def test_cost_counts_fields_times_the_items_asked_for(query: str, expected: int) -> None:
    assert cost(query) == expected


def test_fragments_cost_what_they_select_and_cannot_loop() -> None:
    spread = "{ products(first: 2) { edges { node { ...P } } } } fragment P on Product { sku name }"
    assert cost(spread) == 1 + 2 * (1 + 1 + 2)
    looping = "{ products(first: 1) { ...C } } fragment C on ProductConnection { ...C totalCount }"
    assert cost(looping) == 1 + 1 * 1
