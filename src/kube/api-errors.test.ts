import { describeApiError, isNamespaceTerminating, isTransientApiError } from './api-errors.ts';

// The shape of client-node's ApiException: numeric code, the response body as a string, headers.
const apiException = (code: number, body: unknown) =>
  Object.assign(new Error(`HTTP-Code: ${code}\nMessage: Unknown API Status Code!\nBody: ...`), {
    code,
    body,
    headers: { 'retry-after': '1', 'audit-id': 'x' },
  });

describe('describeApiError', () => {
  it('names the status, reason and message on one line', () => {
    const body = JSON.stringify({
      kind: 'Status',
      status: 'Failure',
      message: 'storage is (re)initializing',
      reason: 'TooManyRequests',
      code: 429,
    });
    expect(describeApiError(apiException(429, body))).toBe(
      'HTTP 429 TooManyRequests: storage is (re)initializing',
    );
    expect(describeApiError(apiException(403, { reason: 'Forbidden', message: 'no' }))).toBe(
      'HTTP 403 Forbidden: no',
    );
  });

  it('falls back to the status alone, or the error message', () => {
    expect(describeApiError(apiException(502, '<html>bad gateway</html>'))).toBe('HTTP 502');
    expect(describeApiError(new Error('socket hang up'))).toBe('socket hang up');
    expect(describeApiError('plain')).toBe('plain');
  });
});

describe('isTransientApiError', () => {
  it('is true for 429 and 503 only', () => {
    expect(isTransientApiError(apiException(429, ''))).toBe(true);
    expect(isTransientApiError(apiException(503, ''))).toBe(true);
    expect(isTransientApiError(apiException(403, ''))).toBe(false);
    expect(isTransientApiError(new Error('ECONNREFUSED'))).toBe(false);
  });
});

describe('isNamespaceTerminating', () => {
  const forbidden = (reason: string) => ({
    code: 403,
    body: JSON.stringify({ reason: 'Forbidden', details: { causes: [{ reason }] } }),
  });
  it('recognises the apiserver refusing content in a namespace being deleted', () => {
    expect(isNamespaceTerminating(forbidden('NamespaceTerminating'))).toBe(true);
    expect(isNamespaceTerminating(forbidden('Other'))).toBe(false);
    expect(isNamespaceTerminating({ code: 409 })).toBe(false);
  });
});
