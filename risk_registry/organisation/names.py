"""People's names as the documents and pages write them."""


def person(user) -> str:
    """A user's name as people write it: 张三 (family name first, no space), else the username."""
    if user is None:
        return ""
    return person_named(user.last_name, user.first_name, user.username)


def person_named(last_name: str | None, first_name: str | None, username: str) -> str:
    """``person`` of a user's three name columns (read as values, without the user)."""
    family, given = (last_name or "").strip(), (first_name or "").strip()
    if family or given:
        if all(ord(ch) > 0x2E7F for ch in family + given):  # CJK names are written together
            return f"{family}{given}"
        return f"{given} {family}".strip()
    return username
