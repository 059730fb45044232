from django.http import HttpResponse
from django.templatetags.static import static


def index(request):
    css = static("hello/app.css")
    return HttpResponse(f'<!doctype html><link rel="stylesheet" href="{css}"><p>hello from django-pip</p>')
