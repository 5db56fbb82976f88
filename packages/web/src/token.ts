// The access token: from `?token=` (then taken out of the address bar, so that it is not
// bookmarked, shared or kept in the history) or typed into the token box, and kept in this tab's
// sessionStorage only.

const STORAGE_KEY = 'keruta.token';
/** The token when sessionStorage is refused. */
let memoryToken: string | undefined;

/** Moves a `token` parameter from the address into sessionStorage; returns the token to use. */
export function takeToken(): string | undefined {
  const url = new URL(window.location.href);
  const fromAddress = url.searchParams.get('token');
  if (fromAddress !== null) {
    url.searchParams.delete('token');
    window.history.replaceState(window.history.state, '', url.href);
    saveToken(fromAddress === '' ? undefined : fromAddress);
  }
  return storedToken();
}

export function storedToken(): string | undefined {
  try {
    return window.sessionStorage.getItem(STORAGE_KEY) ?? undefined;
  } catch {
    // Storage can be refused (privacy settings); the token then lives for this page only.
    return memoryToken;
  }
}

export function saveToken(token: string | undefined): void {
  memoryToken = token;
  try {
    if (token === undefined) window.sessionStorage.removeItem(STORAGE_KEY);
    else window.sessionStorage.setItem(STORAGE_KEY, token);
  } catch {
    // Storage refused: memoryToken keeps it for this page (see storedToken).
  }
}
