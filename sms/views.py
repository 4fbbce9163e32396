"""Twilio's callbacks (signed) and the patient's text-message preferences."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import gateway, services
from .models import SmsContact
from .phone import InvalidPhone

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _signed(request) -> bool:
    return gateway.current().request_is_signed(request)


@csrf_exempt  # signed by Twilio instead (X-Twilio-Signature)
@require_POST
def status_callback(request):
    if not _signed(request):
        return HttpResponseForbidden("Bad signature.")
    services.sms_status_update(provider_id=request.POST.get("MessageSid", ""),
                               status=request.POST.get("MessageStatus", ""),
                               error_code=request.POST.get("ErrorCode", ""))
    return HttpResponse(status=204)


@csrf_exempt  # signed by Twilio instead (X-Twilio-Signature)
@require_POST
def inbound(request):
    if not _signed(request):
        return HttpResponseForbidden("Bad signature.")
    services.sms_inbound(from_number=request.POST.get("From", ""), body=request.POST.get("Body", ""))
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


class SmsPreferencesForm(forms.Form):
    phone = forms.CharField(label="Mobile number", max_length=32,
                            widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}))
    agreed = forms.BooleanField(
        label="Text me appointment reminders and waitlist offers", required=False,
        help_text="You can reply STOP to any text, or untick this, to stop them.",
    )


@login_required
def preferences(request):
    contact = SmsContact.objects.filter(user=request.user).first()
    initial = {"phone": contact.phone if contact else request.user.phone, "agreed": bool(contact and contact.may_text)}
    form = SmsPreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.sms_consent_set(user=request.user, phone=form.cleaned_data["phone"],
                                     agreed=form.cleaned_data["agreed"])
        except InvalidPhone as error:
            form.add_error("phone", str(error))
        else:
            messages.success(request, "Your text message settings are saved.")
            return redirect("sms:preferences")
    return render(request, "sms/preferences.html", {"form": form, "contact": contact})
