from django.contrib import admin

from labeling.models import Document, Line, OcrModel, Page, Transcription


@admin.register(OcrModel)
class OcrModelAdmin(admin.ModelAdmin):
    list_display = ("name", "language", "is_default", "created_at")
    list_filter = ("is_default",)


class PageInline(admin.TabularInline):
    model = Page
    fields = ("number", "source_name", "width", "height", "ocr_status", "ocr_error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "visibility", "license", "created_at")
    list_filter = ("visibility", "license")
    search_fields = ("title", "owner__email")
    raw_id_fields = ("owner",)
    inlines = (PageInline,)


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    list_display = ("__str__", "ocr_status", "ocr_model", "ocr_seconds", "ocr_finished_at")
    list_filter = ("ocr_status",)
    search_fields = ("document__title", "sha256")
    raw_id_fields = ("document",)


class TranscriptionInline(admin.TabularInline):
    model = Transcription
    fields = ("user", "text", "kept_prediction", "seconds_spent", "updated_at")
    readonly_fields = fields
    extra = 0


@admin.register(Line)
class LineAdmin(admin.ModelAdmin):
    list_display = ("__str__", "status", "confidence", "prediction")
    list_filter = ("status",)
    search_fields = ("prediction", "consensus_text")
    raw_id_fields = ("page",)
    inlines = (TranscriptionInline,)
