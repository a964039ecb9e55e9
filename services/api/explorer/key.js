// The user's API key, entered once and kept in this browser's localStorage.

const STORAGE_NAME = "llmobs.explorer.apiKey";

/** The saved key, or "" when none was entered. */
export function readKey() {
  try {
    return window.localStorage.getItem(STORAGE_NAME) || "";
  } catch {
    return "";
  }
}

/** Keep `key` for the next visits (an empty key forgets it). */
export function saveKey(key) {
  if (key) window.localStorage.setItem(STORAGE_NAME, key);
  else window.localStorage.removeItem(STORAGE_NAME);
}
