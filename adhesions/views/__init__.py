"""The collectivity space (/collectivite/) and the public pages of joining, by sub-domain."""
