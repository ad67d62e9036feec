// The recommendations feed: the two-tower model and its session features.
import { OpenFeature } from '@openfeature/server-sdk';

const client = OpenFeature.getClient();

export async function feed(user: User): Promise<Item[]> {
  if (await client.getBooleanValue('recsys-kill-switch', false)) {
    return popular();
  }
  const tower = await client.getObjectValue('recsys-two-tower-v2', { model: 'two-tower', version: '1.8.0' });
  // A wrong-typed read: the flag serves booleans; `audit --refs` reports it.
  const session = await client.getStringValue('recsys-session-features', 'off');
  return recommend(user, tower, session);
}
