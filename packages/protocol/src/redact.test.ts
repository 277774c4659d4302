import { describe, expect, it } from 'vitest';
import { hasCredentials, redactUrl, redactUrls } from './redact.ts';

describe('redactUrl', () => {
  it('hides user:password@ and the values of query parameters named like secrets', () => {
    expect(redactUrl('https://ci:hunter2@hooks.example.org/in')).toBe('https://***@hooks.example.org/in');
    expect(
      redactUrl('https://hooks.example.org/in?token=t&Access_Token=a&api_key=k&sig=s&signature=x&channel=ci'),
    ).toBe('https://hooks.example.org/in?token=***&Access_Token=***&api_key=***&sig=***&signature=***&channel=ci');
    expect(redactUrl('https://hooks.example.org/in?password=p&secret=s#frag')).toBe(
      'https://hooks.example.org/in?password=***&secret=***#frag',
    );
  });

  it('leaves a URL without secrets, and text that is not a URL, exactly as they were', () => {
    expect(redactUrl('https://hooks.example.org/a%2Fb?q=a+b&channel=ci')).toBe(
      'https://hooks.example.org/a%2Fb?q=a+b&channel=ci',
    );
    expect(redactUrl('not a url')).toBe('not a url');
  });

  it('finds the URLs in an error message', () => {
    expect(
      redactUrls('Request cannot be constructed from a URL that includes credentials: http://u:p@x.example/in'),
    ).toBe('Request cannot be constructed from a URL that includes credentials: http://***@x.example/in');
    expect(redactUrls('connect ECONNREFUSED 127.0.0.1:9')).toBe('connect ECONNREFUSED 127.0.0.1:9');
  });

  it('tells a URL with credentials', () => {
    expect(hasCredentials('https://u:p@example.org/')).toBe(true);
    expect(hasCredentials('https://u@example.org/')).toBe(true);
    expect(hasCredentials('https://example.org/?to=ops@example.org')).toBe(false);
  });
});
