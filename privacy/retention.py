"""How long records outlive an erasure, and from when. One home for the periods.

- Clinical records: 8 years after the conclusion of treatment, for adults in
  England (NHS Records Management Code of Practice 2023, Appendix II). Here,
  from the patient's last attended session.
- Payment records: 6 years (HMRC's record-keeping rule; the Limitation Act
  1980's six years for contract claims). Here, from each payment.
"""

from __future__ import annotations

from datetime import date

CLINICAL_YEARS = 8
FINANCIAL_YEARS = 6


def years_after(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
