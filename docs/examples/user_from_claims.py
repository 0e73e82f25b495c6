def account_for(id_info, users):
    """Find or create the local user for verified ID-token claims (``store``'s ``id_info``)."""
    user = users.setdefault(id_info["sub"], {"sub": id_info["sub"]})  # key by sub, never email
    if id_info.get("email_verified"):  # an unverified address is just a label
        user["email"] = id_info["email"]
    user["name"] = id_info.get("name")
    return user
