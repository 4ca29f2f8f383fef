"""Case views, one module per part of the case file; cases/urls.py joins their urlpatterns."""
