"""``corona paper`` for the plane papers [L], [D], [K] and the agreement table of all five
papers (DIR/agreement.json, rendered in docs/papers.md)."""
