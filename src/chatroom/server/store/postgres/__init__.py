"""The PostgreSQL backend: ``PostgresStore`` and ``PostgresHistory`` on psycopg 3.

Imported only when ``store.url`` names PostgreSQL, so SQLite users need neither psycopg
nor a database server.
"""
