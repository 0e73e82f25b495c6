# Only accounts of one Google Workspace domain may sign in.
GOOGLE_FLOW_HOSTED_DOMAIN = "example.com"
# Sent to Google as hd=example.com (the account chooser shows only those accounts)
# and checked in the verified ID token's "hd" claim: a personal Gmail account, or
# an account of another domain, gets a 403 (HostedDomainNotAllowed).
