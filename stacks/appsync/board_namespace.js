/**
 * The `board` channel namespace's subscribe handler (AWS AppSync Events, APPSYNC_JS runtime): a signed-in supervisor
 * may subscribe only to the channels their Cognito groups allow. The rule is the one of
 * lambdas/connect_state/domain/board_scope.py (the snapshot API's); tests/scope_cases.json holds the cases both pass
 * (tests/unit/test_board_scope.py runs this file under node).
 *
 * - `wallboard-all`: every board channel, the wildcards `/board/queues/*` and `/board/agentgroups/*` included;
 * - `queue-<queueId>`: `/board/queues/<queueId>`;
 * - `agents-<hierarchyGroupId>`: `/board/agentgroups/<hierarchyGroupId>`;
 * anything else, a malformed channel or a caller without groups, is refused with util.unauthorized().
 *
 * Subscribing is Cognito-authorised: ctx.identity is the user pool identity, whose `groups` are the token's
 * `cognito:groups` (the claim itself is read when `groups` is missing). Publishing is IAM only (the board function);
 * there is no onPublish, so published events pass unchanged.
 *
 * Written for APPSYNC_JS, which has no while / classic for / try / throw / `in` / `++`: for-of loops, function
 * declarations, and no regular expressions or callbacks, to stay inside what its documentation lists.
 */
import { util } from '@aws-appsync/utils';

function isSegment(text) {
  const characters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-';
  if (text.length < 1 || text.length > 50) {
    return false;
  }
  for (const character of text.split('')) {
    if (characters.indexOf(character) < 0) {
      return false;
    }
  }
  return true;
}

function groupsOf(identity) {
  if (!identity) {
    return [];
  }
  if (Array.isArray(identity.groups)) {
    return identity.groups;
  }
  const claim = identity.claims ? identity.claims['cognito:groups'] : null;
  if (Array.isArray(claim)) {
    return claim;
  }
  if (typeof claim !== 'string') {
    return [];
  }
  // "[a b]": how a token's list claim is sometimes rendered as text; group names never contain white space
  let text = claim.trim();
  if (text.startsWith('[') && text.endsWith(']')) {
    text = text.slice(1, text.length - 1);
  }
  const groups = [];
  for (const name of text.split(' ')) {
    if (name.length > 0) {
      groups.push(name);
    }
  }
  return groups;
}

function isAllowed(groups, channel) {
  if (typeof channel !== 'string') {
    return false;
  }
  // '/board/queues/<id>' splits into ['', 'board', 'queues', '<id>']
  const parts = channel.split('/');
  if (parts.length < 3 || parts[0] !== '' || parts[1] !== 'board') {
    return false;
  }
  const everything = groups.indexOf('wallboard-all') >= 0;
  const kind = parts[2];
  if (parts.length === 3) {
    return kind === 'agents' && everything;
  }
  if (parts.length !== 4 || (kind !== 'queues' && kind !== 'agentgroups')) {
    return false;
  }
  const id = parts[3];
  if (id === '*') {
    return everything;
  }
  if (!isSegment(id)) {
    return false;
  }
  const own = (kind === 'queues' ? 'queue-' : 'agents-') + id;
  return everything || groups.indexOf(own) >= 0;
}

export function onSubscribe(ctx) {
  if (!isAllowed(groupsOf(ctx.identity), ctx.info.channel.path)) {
    util.unauthorized();
  }
}
