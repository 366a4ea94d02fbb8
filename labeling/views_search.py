"""Searching one's own lines and the approved pool lines by text (`labeling.search`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from labeling.search import search_page
from labeling.views import AuthedRequest

LONGEST_QUERY = 200


@login_required
@require_GET
def search(request: AuthedRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:LONGEST_QUERY]
    page, hits = search_page(user=request.user, query=query, number=request.GET.get("page"))
    return render(request, "labeling/search.html", {"query": query, "page": page, "hits": hits})
