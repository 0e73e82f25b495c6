# from google_auth_oauthlib.flow import InstalledAppFlow  # before
from flask_google_flow.flow import InstalledAppFlow  # after: the only line that changes

SCOPES = ["openid", "https://www.googleapis.com/auth/drive.readonly"]


def get_credentials(client_secrets_file="client_secret.json", headless=False):
    flow = InstalledAppFlow.from_client_secrets_file(client_secrets_file, scopes=SCOPES)
    if headless:  # SSH session or container: print the URL, paste back the address
        return flow.run_headless()
    # Opens the browser; a loopback server on a free port catches the redirect.
    return flow.run_local_server(port=0, timeout_seconds=300)


if __name__ == "__main__":
    credentials = get_credentials()
    print("granted:", credentials.granted_scopes)
    print(credentials.to_json())  # contains the refresh token: store it safely
