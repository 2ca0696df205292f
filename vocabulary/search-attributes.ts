/**
 * Custom search attributes, registered by the local stack (scripts/stack.sh) and by deployments,
 * so operators can find every workflow of a tenant, an entity or a Matrix id in the Temporal UI.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const TenantKey = defineSearchAttributeKey('Tenant', SearchAttributeType.KEYWORD);
export const EntityKindKey = defineSearchAttributeKey('EntityKind', SearchAttributeType.KEYWORD);
export const EntitySlugKey = defineSearchAttributeKey('EntitySlug', SearchAttributeType.KEYWORD);
export const MatrixUserIdKey = defineSearchAttributeKey('MatrixUserId', SearchAttributeType.KEYWORD);
export const MatrixRoomIdKey = defineSearchAttributeKey('MatrixRoomId', SearchAttributeType.KEYWORD);

/** As the Temporal CLI wants them: `--search-attribute Name=Keyword`. */
export const SEARCH_ATTRIBUTE_NAMES = ['Tenant', 'EntityKind', 'EntitySlug', 'MatrixUserId', 'MatrixRoomId'] as const;
