"""oagw REST: management routes (G-10) and the proxy endpoint (G-11)."""
