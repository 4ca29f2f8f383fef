"""The shared kernel every app builds on, installed as the app labelled "atensi".

Notifications and the reminder engine, access scoping, the form-to-service helper,
uploads, value types (NIK, phone) and validators, keyset paging, local time, audit
context, once-tokens, spreadsheets, geo and the programme's reference data. It
imports no app (stakeholders, cases, referrals): where it must know about them, the apps
register with it (notification kinds, renderers, reminder rules, channels, delivery-time
checks, retention sweeps). Its label stays "atensi", so its tables, migrations, content
types, permissions and history triggers are those the portal always had.
"""
