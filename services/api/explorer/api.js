// The API client: public endpoints only, the key in the Authorization header.

import { readKey } from "./key.js";

/** An answer that is not 2xx: its HTTP status and the API's message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }

  /** The key was refused or is missing (401), or may not read (403). */
  get isKeyProblem() {
    return this.status === 401 || this.status === 403;
  }
}

/** GET `path` with `params` (arrays repeat the parameter; empty values are left out). */
export async function getJson(path, params = {}, { signal } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null && item !== "") url.searchParams.append(name, item);
    }
  }
  const headers = { Accept: "application/json" };
  const key = readKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch(url, { headers, signal, cache: "no-store" });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, `the API could not be reached (${error.message})`);
  }
  if (response.ok) return response.json();
  throw new ApiError(response.status, await errorMessage(response));
}

async function errorMessage(response) {
  try {
    const body = await response.json();
    if (body && body.error && typeof body.error.message === "string") return body.error.message;
  } catch {
    // Not JSON: the status line is all there is to say.
  }
  return `HTTP ${response.status} ${response.statusText}`;
}

export const api = {
  listTraces: (params, options) => getJson("/v1/traces", params, options),
  getTrace: (traceId, options) =>
    getJson(`/v1/traces/${encodeURIComponent(traceId)}`, {}, options),
  getSession: (sessionId, options) =>
    getJson(`/v1/sessions/${encodeURIComponent(sessionId)}`, {}, options),
  listSessions: (params, options) => getJson("/v1/sessions", params, options),
  listModels: (params, options) => getJson("/v1/models", params, options),
  getUsage: (params, options) => getJson("/v1/metrics/usage", params, options),
};
