from hearing.db.engine import create_db_engine, session_factory, transaction
from hearing.db.models import Base

__all__ = ["Base", "create_db_engine", "session_factory", "transaction"]
