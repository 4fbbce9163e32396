import csv

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render

from .forms import PeriodForm
from .permissions import manager_required
from .sections import SECTIONS


@manager_required
def index(request):
    form = PeriodForm.from_query(request.GET)
    if not form.is_valid():
        return render(request, "reports/index.html", {"form": form, "sections": []}, status=400)
    period = form.period
    sections = [build(period) for build in SECTIONS.values()]
    return render(request, "reports/index.html", {"form": form, "period": period, "sections": sections})


@manager_required
def download(request, slug: str):
    build = SECTIONS.get(slug)
    if build is None:
        raise Http404("No such report.")
    form = PeriodForm.from_query(request.GET)
    if not form.is_valid():
        errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
        return JsonResponse({"detail": "Choose a valid period.", "code": "invalid_period", "errors": errors}, status=400)
    period = form.period
    section = build(period)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}-{period.date_from}-{period.date_to}.csv"'
    writer = csv.writer(response)
    writer.writerow(section.csv_columns)
    writer.writerows(section.csv_rows)
    return response
