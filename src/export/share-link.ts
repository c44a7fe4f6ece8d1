// Share links: `https://<app>/#story=v1.<base64url(zlib(JSON of the SharedStory))>`. The story
// lives in the URL fragment, which browsers never send to a server. Decoding is for strangers'
// input: the text is bounded before anything is decoded, inflating stops at a limit, the zlib
// checksum catches a link that was cut or changed, and every field goes through the schema.

import { strFromU8, strToU8 } from 'fflate';
import type { SharedStory } from '../schema/share-link';
import { shown } from '../schema/validate';
import { ImportError, type ImportSource } from './import-error';
import { deflateZlib, inflateZlibBounded } from './inflate';
import { parseSharedStory } from './shared-story';

export const SHARE_LINK_KEY = 'story';
/** version of the link's encoding (prefix `v1.`); the JSON inside has its own version */
export const SHARE_LINK_VERSION = 1;
/** characters after `v1.`: about 24 KiB compressed, several times any real story */
export const MAX_LINK_PAYLOAD_CHARS = 32 * 1024;
/** inflated JSON: the largest valid story (33 prompts of 2 x 2000 CJK characters) fits */
export const MAX_LINK_JSON_BYTES = 512 * 1024;

const PREFIX = `#${SHARE_LINK_KEY}=`;
const LINK: ImportSource = { what: 'This story link', askAgain: 'Ask the sender to copy the link again (the whole of it).' };
const { what: WHAT, askAgain: ASK_AGAIN } = LINK;

/** Whether a location hash is meant as a share link (well-formed or not). */
export const isShareFragment = (hash: string) => hash.startsWith(PREFIX);

/** `#story=v1.…`; throws ImportError 'too-large' when the story would make an unusable link. */
export function encodeShareFragment(shared: SharedStory): string {
  const payload = base64url(deflateZlib(strToU8(JSON.stringify(shared))));
  if (payload.length > MAX_LINK_PAYLOAD_CHARS) {
    throw new ImportError('too-large', `This story is too long for a link (${payload.length.toLocaleString('en')} characters; at most ${MAX_LINK_PAYLOAD_CHARS.toLocaleString('en')}).`, 'Share a PNG or the ZIP instead: they carry the whole story.');
  }
  return `${PREFIX}v${SHARE_LINK_VERSION}.${payload}`;
}

/** The app's address with the story in its fragment. */
export function shareLink(appUrl: string, shared: SharedStory): string {
  const url = new URL(appUrl);
  url.hash = '';
  return `${url.href.replace(/#$/, '')}${encodeShareFragment(shared)}`;
}

/** The story of a `#story=v1.…` fragment; throws ImportError with a message for every kind of bad link. */
export function decodeShareFragment(hash: string): SharedStory {
  if (!isShareFragment(hash)) throw new ImportError('not-recognised', `${WHAT} does not start with "${PREFIX}".`, ASK_AGAIN);
  const body = hash.slice(PREFIX.length);
  const versioned = /^v(\d{1,9})\./.exec(body);
  if (!versioned) throw new ImportError('not-recognised', `${WHAT} has no version (expected "${PREFIX}v${SHARE_LINK_VERSION}.…", got ${shown(body)}).`, ASK_AGAIN);
  const version = Number(versioned[1]);
  if (version > SHARE_LINK_VERSION) {
    throw new ImportError('too-new', `${WHAT} was made by a newer version of the app (link version ${version}; this app reads ${SHARE_LINK_VERSION}).`, 'Reload the app while online to update it, then open the link again.');
  }
  if (version !== SHARE_LINK_VERSION) throw new ImportError('not-recognised', `${WHAT} has an unknown version (${version}).`, ASK_AGAIN);
  const payload = body.slice(versioned[0].length);
  if (payload.length > MAX_LINK_PAYLOAD_CHARS) {
    throw new ImportError('too-large', `${WHAT} is too long (${payload.length.toLocaleString('en')} characters; at most ${MAX_LINK_PAYLOAD_CHARS.toLocaleString('en')}).`, 'Stories this long are shared as a PNG or ZIP, not as a link.');
  }
  const compressed = fromBase64url(payload);
  const json = strFromU8(inflateZlibBounded(compressed, MAX_LINK_JSON_BYTES, LINK));
  return parseSharedStory(json, LINK);
}

function base64url(bytes: Uint8Array): string {
  let binary = '';
  // String.fromCharCode takes arguments; keep each call well under engines' argument limits.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new ImportError('damaged', `${WHAT} is damaged (it has characters a link of this app never has, or is cut short).`, ASK_AGAIN);
  }
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}
