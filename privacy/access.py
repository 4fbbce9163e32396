"""Who may see what of a kept (retained-for-law) record after an erasure.

The rule, in one place:
- Everyone on the staff pages and the staff API (reception, physiotherapists, managers)
  sees that the slot was taken and when the record will be erased ("Record retained
  until <date>", booking.calendar): the practitioner, time, service and status. No name,
  contact details, intake answers, clinical flags, outcome scores, visit history or
  payments, and no desk action (move, cancel, mark, take payment) applies to it.
- Managers and superusers may open the clinical and payment content of one record,
  giving a reason; each opening is logged (RetainedRecordAccess) with who and when.
- Managers see every kept record's retention end dates (privacy:retained).
"""

from __future__ import annotations

# The wording every page shows (booking.calendar) and who may open a record (the desk's permissions):
# both live below privacy in the layers, so the staff pages and the API can ask them.
from booking.calendar import retained_label  # noqa: F401
from booking.staff.permissions import may_open_retained  # noqa: F401
