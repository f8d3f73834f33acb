"""WTForms forms and validators: addresses, transaction hashes, amounts, times, contacts, the secret guard.

Pure: no database, no Flask app, no imports from casework, evidence or reports.
"""
