"""Site forms: parse what the browser sends. The rules are the services'."""

from django import forms

from players.models import CONSENT_FIELDS, ConsentChannel, LimitKind, LimitPeriod, Sex
from wallet.currencies import MINOR_UNITS


class RegisterForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.CharField(max_length=254, widget=forms.EmailInput)
    password = forms.CharField(max_length=128, widget=forms.PasswordInput, strip=False)
    birth_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    country = forms.CharField(max_length=2, initial="MT", help_text="ISO code, e.g. MT, SE, GB")
    currency = forms.ChoiceField(choices=[(code, code) for code in MINOR_UNITS], initial="EUR")
    language = forms.CharField(max_length=2, initial="en")
    consent_email = forms.BooleanField(required=False, label="E-mail offers")
    consent_sms = forms.BooleanField(required=False, label="SMS offers")

    def consents(self) -> dict[str, bool]:
        return {ConsentChannel.EMAIL: self.cleaned_data["consent_email"],
                ConsentChannel.SMS: self.cleaned_data["consent_sms"]}


class LoginForm(forms.Form):
    username = forms.CharField(max_length=254, label="Username or e-mail")
    password = forms.CharField(max_length=128, widget=forms.PasswordInput, strip=False)


class ProfileForm(forms.Form):
    title = forms.CharField(max_length=20, required=False)
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    sex = forms.ChoiceField(choices=[("", "—"), *Sex.choices], required=False)
    address = forms.CharField(max_length=255, required=False)
    city = forms.CharField(max_length=100, required=False)
    postal_code = forms.CharField(max_length=20, required=False)
    mobile_prefix = forms.CharField(max_length=6, required=False)
    mobile = forms.CharField(max_length=20, required=False)
    language = forms.CharField(max_length=2)


class ConsentsForm(forms.Form):
    def __init__(self, *args, player, **kwargs):
        super().__init__(*args, **kwargs)
        for channel in ConsentChannel:
            self.fields[channel.value] = forms.BooleanField(
                required=False, label=channel.label, initial=getattr(player, CONSENT_FIELDS[channel]))


class LimitForm(forms.Form):
    kind = forms.ChoiceField(choices=LimitKind.choices)
    period = forms.ChoiceField(choices=LimitPeriod.choices, required=False)
    value = forms.CharField(max_length=30, required=False, help_text="Leave empty to remove the limit")


class SelfExclusionForm(forms.Form):
    CHOICES = [("30", "30 days"), ("90", "90 days"), ("180", "6 months"), ("365", "1 year"),
               ("", "Indefinitely")]
    length = forms.ChoiceField(choices=CHOICES, required=False)
    confirm = forms.BooleanField(label="I understand this cannot be undone before it ends")


class TimeoutForm(forms.Form):
    CHOICES = [("24", "24 hours"), ("72", "3 days"), ("168", "1 week"), ("720", "30 days")]
    hours = forms.ChoiceField(choices=CHOICES)
