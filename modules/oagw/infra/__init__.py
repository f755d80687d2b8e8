"""oagw adapters: the aiohttp engine, the DNS guard, the OAuth2 token cache, metrics and built-in plugins."""
