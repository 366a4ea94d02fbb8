"""The tutorial's pages: the introduction, three practice lines graded on the spot, their
images."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from labeling import guidelines, ottoman
from labeling.forms import TranscriptionForm
from labeling.tutorial import STEPS, Step, finish_tutorial, get_step, grade, line_png, topics
from labeling.tutorial import special_keys as special_keys_of
from labeling.views import AuthedRequest


def _step_or_404(number: int) -> Step:
    step = get_step(number)
    if step is None:
        raise Http404
    return step


@login_required
@require_GET
def tutorial(request: AuthedRequest) -> HttpResponse:
    by_key = {rule.key: rule for rule in guidelines.RULES}
    return render(
        request,
        "labeling/tutorial.html",
        {
            "steps": STEPS,
            "terms": [by_key[key] for key in ("agreed", "approved", "gold")],
        },
    )


@login_required
def tutorial_step(request: AuthedRequest, step: int) -> HttpResponse:
    current = _step_or_404(step)
    # The line editor's own form: Save, Confirm, and the question when Confirm would throw
    # an edit away; here nothing is saved.
    form = TranscriptionForm(
        request.POST or None, initial={"text": current.reading}, prediction=current.reading
    )
    result = None
    if request.method == "POST" and form.is_valid():
        answer = current.reading if form.confirms else form.cleaned_data["text"]
        result = grade(step=current, text=answer)
        if current.number == len(STEPS):
            finish_tutorial(user=request.user)
    keyboard_map = ottoman.keyboard()
    return render(
        request,
        "labeling/tutorial_step.html",
        {
            "step": current,
            "steps": STEPS,
            "following": get_step(current.number + 1),
            "form": form,
            "text_value": form["text"].value() if form.is_bound else current.reading,
            "result": result,
            "topics": topics(current),
            "keyboard_map": keyboard_map,
            "special_keys": special_keys_of(keyboard_map),
        },
    )


@login_required
@require_GET
def tutorial_image(request: AuthedRequest, step: int) -> HttpResponse:
    response = HttpResponse(line_png(_step_or_404(step)), content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    return response
