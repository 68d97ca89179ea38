"""Pure read functions, one per question: a session in, a typed DataFrame (or small value) out.

No Streamlit here; `db.data.fetch` caches them. Modules are named for their domain
(health, errors, scans, opportunities, sandbox, meta), which picks the cache TTL.
"""
