from django import template

register = template.Library()


@register.filter
def pounds(pence) -> str:
    """1234 -> '£12.34' (money is integer pence everywhere)."""
    if pence in (None, ""):
        return ""
    pence = int(pence)
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(pence) // 100:,}.{abs(pence) % 100:02d}"
