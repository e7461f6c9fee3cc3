"""Small helpers shared by the services."""





def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None
