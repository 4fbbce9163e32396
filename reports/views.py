import csv

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render

from .forms import PeriodForm
from .html import sections_html
from .permissions import manager_required
from .sections import SECTIONS, Section

CACHE_VERSION = 1


def section_for(slug: str, period) -> Section:
    """A report for a period; from the shared cache when REPORTS_CACHE_SECONDS > 0 and it was built
    in the last that many seconds (the page then says how old the figures may be).

    Off by default: the per-day summary (summary.py) makes the page's figures one query and a few
    milliseconds for a year, always current.
    """
    build = SECTIONS[slug]
    seconds = settings.REPORTS_CACHE_SECONDS
    if seconds <= 0:
        return build(period)
    key = f"reports:v{CACHE_VERSION}:{slug}:{period.date_from}:{period.date_to}"
    return cache.get_or_set(key, lambda: build(period), seconds)


@manager_required
def index(request):
    form = PeriodForm.from_query(request.GET)
    if not form.is_valid():
        return render(request, "reports/index.html", {"form": form}, status=400)
    period = form.period
    seconds = settings.REPORTS_CACHE_SECONDS

    def build():
        return sections_html([section_for(slug, period) for slug in SECTIONS], period)

    # With the cache on, the written-out sections are cached too (one round trip for the page).
    key = f"reports:v{CACHE_VERSION}:page:{period.date_from}:{period.date_to}"
    html = cache.get_or_set(key, build, seconds) if seconds > 0 else build()
    return render(request, "reports/index.html", {"form": form, "period": period, "sections_html": html,
                                                  "cache_minutes": seconds // 60})


@manager_required
def download(request, slug: str):
    if slug not in SECTIONS:
        raise Http404("No such report.")
    form = PeriodForm.from_query(request.GET)
    if not form.is_valid():
        errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
        return JsonResponse({"detail": "Choose a valid period.", "code": "invalid_period", "errors": errors}, status=400)
    period = form.period
    section = section_for(slug, period)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}-{period.date_from}-{period.date_to}.csv"'
    writer = csv.writer(response)
    writer.writerow(section.csv_columns)
    writer.writerows(section.csv_rows)
    return response
