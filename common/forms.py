"""What every app's forms share."""

from __future__ import annotations



class DescribedErrorsMixin:
    """Point each field with an error at its message (includes/field.html renders id="<id>_error"),
    so screen readers read the error with the field, not just somewhere on the page."""

    def add_error(self, field, error):
        super().add_error(field, error)
        names = [field] if field else []
        if isinstance(error, dict):
            names = list(error)
        for name in names:
            if name in self.fields:
                bound = self[name]
                ids = [f"{bound.auto_id}_helptext"] if self.fields[name].help_text else []
                self.fields[name].widget.attrs["aria-describedby"] = " ".join([*ids, f"{bound.auto_id}_error"])
