"""Phone numbers as they are shown in lists."""


def mask(phone: str) -> str:
    """138****5678 for mobiles; other numbers keep only their last four digits."""
    phone = (phone or "").strip()
    if len(phone) == 11 and phone.isdigit():
        return phone[:3] + "****" + phone[-4:]
    if len(phone) > 4:
        return "*" * (len(phone) - 4) + phone[-4:]
    return phone
