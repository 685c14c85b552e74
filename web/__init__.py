"""The staff pages and the patient's link pages: views, forms and templates. It imports the domain, never `api`."""
