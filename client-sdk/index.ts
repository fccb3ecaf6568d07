/**
 * Solidarity Ledger client SDK (`@solidarity-ledger/sdk`): a small typed facade over graphql-request
 * (on the caller's `fetch`, see transport.ts) and the documents generated from client-sdk/operations
 * (see README.md next to this file). It runs in Node
 * (20.3+) and in browsers alike: nothing here imports a Node module.
 *
 *   const ledger = createLedgerClient({ url: 'https://ledger.example/graphql', token });
 *   const { entry, replayed, userErrors } = await ledger.postJournalEntry({ bookId, idempotencyKey, lines });
 *   for await (const entry of ledger.iterateJournalEntries({ bookId })) { ... }
 *
 * Nothing here imports the server: the SDK knows the API only through the generated code.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { DocumentNode } from 'graphql';
import { LedgerClientError, type LedgerClientErrorCode, type LedgerGraphQLError } from './errors.js';
import {
  AcceptBankSuggestionsDocument,
  type AcceptBankSuggestionsMutation,
  type AcceptBankSuggestionsMutationVariables,
  AcceptPaymentRequestDocument,
  type AcceptPaymentRequestMutation,
  type AcceptPaymentRequestMutationVariables,
  AccountBalanceDocument,
  type AccountBalanceQuery,
  type AccountBalanceQueryVariables,
  // The treasurer's desk (issue 17).
  AccountByCodeDocument,
  type AccountByCodeQuery,
  type AccountByCodeQueryVariables,
  AccountDocument,
  type AccountQuery,
  type AccountQueryVariables,
  AccountsDocument,
  type AccountsQuery,
  type AccountsQueryVariables,
  AddNetworkCurrencyDocument,
  type AddNetworkCurrencyMutation,
  type AddNetworkCurrencyMutationVariables,
  ApiTokensDocument,
  type ApiTokensQuery,
  ApplyBankRulesDocument,
  type ApplyBankRulesMutation,
  type ApplyBankRulesMutationVariables,
  ApplyCreditPolicyDocument,
  type ApplyCreditPolicyMutation,
  type ApplyCreditPolicyMutationVariables,
  AuditBookDocument,
  type AuditBookQuery,
  type AuditBookQueryVariables,
  BalanceSheetDocument,
  BalanceSheetFileDocument,
  type BalanceSheetFileQueryVariables,
  type BalanceSheetQuery,
  type BalanceSheetQueryVariables,
  BankAccountDocument,
  type BankAccountQuery,
  type BankAccountQueryVariables,
  BankLinesDocument,
  type BankLinesQuery,
  type BankLinesQueryVariables,
  BankMatchSuggestionsDocument,
  type BankMatchSuggestionsQuery,
  type BankMatchSuggestionsQueryVariables,
  BankReconciliationDocument,
  type BankReconciliationQuery,
  type BankReconciliationQueryVariables,
  BankReconciliationsDocument,
  type BankReconciliationsQuery,
  type BankReconciliationsQueryVariables,
  BankStatementDocument,
  type BankStatementQuery,
  type BankStatementQueryVariables,
  BankStatementsDocument,
  type BankStatementsQuery,
  type BankStatementsQueryVariables,
  BookDocument,
  type BookQuery,
  type BookQueryVariables,
  BooksDocument,
  type BooksQuery,
  type BooksQueryVariables,
  CancelPaymentRequestDocument,
  type CancelPaymentRequestMutation,
  type CancelPaymentRequestMutationVariables,
  ChangeMembershipStateDocument,
  type ChangeMembershipStateInput,
  type ChangeMembershipStateMutation,
  CityReportDocument,
  CityReportExportDocument,
  type CityReportExportQuery,
  type CityReportExportQueryVariables,
  type CityReportQuery,
  type CityReportQueryVariables,
  CityReportReleasesDocument,
  type CityReportReleasesQuery,
  type CityReportReleasesQueryVariables,
  CloseAccountDocument,
  type CloseAccountInput,
  type CloseAccountMutation,
  CloseBankReconciliationDocument,
  type CloseBankReconciliationMutation,
  type CloseBankReconciliationMutationVariables,
  CommitClearingDocument,
  type CommitClearingMutation,
  type CommitClearingMutationVariables,
  CommitPatronageAllocationDocument,
  type CommitPatronageAllocationInput,
  type CommitPatronageAllocationMutation,
  CommitPendingEntryDocument,
  type CommitPendingEntryInput,
  type CommitPendingEntryMutation,
  CompletePaymentRequestDocument,
  type CompletePaymentRequestMutation,
  type CompletePaymentRequestMutationVariables,
  ConfirmBankMatchesDocument,
  type ConfirmBankMatchesMutation,
  type ConfirmBankMatchesMutationVariables,
  CoopDirectoryDocument,
  type CoopDirectoryQuery,
  type CoopDirectoryQueryVariables,
  CoopDocument,
  CoopMembershipsDocument,
  type CoopMembershipsQuery,
  type CoopMembershipsQueryVariables,
  CoopMemberTokensDocument,
  type CoopMemberTokensQuery,
  type CoopMemberTokensQueryVariables,
  CoopPartiesDocument,
  type CoopPartiesQuery,
  type CoopPartiesQueryVariables,
  type CoopQuery,
  type CoopQueryVariables,
  CoopReportingProfilesDocument,
  type CoopReportingProfilesQuery,
  type CoopReportingProfilesQueryVariables,
  CoopsDocument,
  type CoopsQuery,
  type CoopsQueryVariables,
  CreateAccountDocument,
  type CreateAccountInput,
  type CreateAccountMutation,
  CreateBankRuleDocument,
  type CreateBankRuleMutation,
  type CreateBankRuleMutationVariables,
  CreateBookDocument,
  type CreateBookInput,
  type CreateBookMutation,
  CreateCoopDocument,
  type CreateCoopInput,
  type CreateCoopMutation,
  CreateCreditNetworkDocument,
  type CreateCreditNetworkMutation,
  type CreateCreditNetworkMutationVariables,
  CreateMemberClassDocument,
  type CreateMemberClassInput,
  type CreateMemberClassMutation,
  CreatePaymentRequestDocument,
  type CreatePaymentRequestMutation,
  type CreatePaymentRequestMutationVariables,
  CreditNetworkDocument,
  type CreditNetworkQuery,
  type CreditNetworkQueryVariables,
  CreditNetworksDocument,
  type CreditNetworksQuery,
  type CreditNetworksQueryVariables,
  CreditPolicyHistoryDocument,
  type CreditPolicyHistoryQuery,
  type CreditPolicyHistoryQueryVariables,
  DeclinePaymentRequestDocument,
  type DeclinePaymentRequestMutation,
  type DeclinePaymentRequestMutationVariables,
  DeleteBankRuleDocument,
  type DeleteBankRuleMutation,
  type DeleteBankRuleMutationVariables,
  ImportBankStatementDocument,
  type ImportBankStatementMutation,
  type ImportBankStatementMutationVariables,
  ImportJournalCsvDocument,
  type ImportJournalCsvInput,
  type ImportJournalCsvMutation,
  ImportMembersCsvDocument,
  type ImportMembersCsvInput,
  type ImportMembersCsvMutation,
  ImportObligationsCsvDocument,
  type ImportObligationsCsvMutation,
  type ImportObligationsCsvMutationVariables,
  ImportPatronageCsvDocument,
  type ImportPatronageCsvInput,
  type ImportPatronageCsvMutation,
  IncomeStatementDocument,
  IncomeStatementFileDocument,
  type IncomeStatementFileQueryVariables,
  type IncomeStatementQuery,
  type IncomeStatementQueryVariables,
  IssueApiTokenDocument,
  type IssueApiTokenInput,
  type IssueApiTokenMutation,
  IssueMemberTokenDocument,
  type IssueMemberTokenInput,
  type IssueMemberTokenMutation,
  JoinCoopDocument,
  type JoinCoopInput,
  type JoinCoopMutation,
  JoinCreditNetworkDocument,
  type JoinCreditNetworkMutation,
  type JoinCreditNetworkMutationVariables,
  JournalEntriesDocument,
  type JournalEntriesQuery,
  type JournalEntriesQueryVariables,
  JournalEntryDocument,
  type JournalEntryQuery,
  type JournalEntryQueryVariables,
  MemberStatementDocument,
  type MemberStatementQuery,
  type MemberStatementQueryVariables,
  MembershipDocument,
  type MembershipQuery,
  type MembershipQueryVariables,
  MyMembershipsDocument,
  type MyMembershipsQuery,
  MyPatronageAllocationsDocument,
  type MyPatronageAllocationsQuery,
  NetworkBalanceProofDocument,
  type NetworkBalanceProofQuery,
  type NetworkBalanceProofQueryVariables,
  NetworkClearingsDocument,
  type NetworkClearingsQuery,
  type NetworkClearingsQueryVariables,
  NetworkMemberHistoryDocument,
  type NetworkMemberHistoryQuery,
  type NetworkMemberHistoryQueryVariables,
  NetworkObligationsDocument,
  type NetworkObligationsQuery,
  type NetworkObligationsQueryVariables,
  NetworkPaymentRequestsDocument,
  type NetworkPaymentRequestsQuery,
  type NetworkPaymentRequestsQueryVariables,
  NetworkStatisticsDocument,
  type NetworkStatisticsQuery,
  type NetworkStatisticsQueryVariables,
  NodeDocument,
  type NodeQuery,
  type NodeQueryVariables,
  OwnAccountDocument,
  type OwnAccountQuery,
  type OwnAccountQueryVariables,
  PartyDocument,
  type PartyQuery,
  type PartyQueryVariables,
  PatronageNoticeDocument,
  type PatronageNoticeQuery,
  type PatronageNoticeQueryVariables,
  PatronagePoliciesDocument,
  type PatronagePoliciesQuery,
  type PatronagePoliciesQueryVariables,
  PatronagePolicyDocument,
  type PatronagePolicyQuery,
  type PatronagePolicyQueryVariables,
  PatronageRecordsDocument,
  type PatronageRecordsQuery,
  type PatronageRecordsQueryVariables,
  PatronageRunDocument,
  type PatronageRunQuery,
  type PatronageRunQueryVariables,
  PatronageRunsDocument,
  type PatronageRunsQuery,
  type PatronageRunsQueryVariables,
  PatronageTaxFormsDocument,
  type PatronageTaxFormsQuery,
  type PatronageTaxFormsQueryVariables,
  PayInNetworkDocument,
  type PayInNetworkMutation,
  type PayInNetworkMutationVariables,
  PayInstalmentDocument,
  type PayInstalmentInput,
  type PayInstalmentMutation,
  PaymentRequestDocument,
  type PaymentRequestQuery,
  type PaymentRequestQueryVariables,
  PayPatronageCashDocument,
  type PayPatronageCashInput,
  type PayPatronageCashMutation,
  PostBankLineDocument,
  type PostBankLineMutation,
  type PostBankLineMutationVariables,
  PostJournalEntriesDocument,
  type PostJournalEntriesInput,
  type PostJournalEntriesMutation,
  PostJournalEntryDocument,
  type PostJournalEntryInput,
  type PostJournalEntryMutation,
  PostPendingEntryDocument,
  type PostPendingEntryInput,
  type PostPendingEntryMutation,
  PreviewClearingDocument,
  type PreviewClearingQuery,
  type PreviewClearingQueryVariables,
  PreviewPatronageAllocationDocument,
  type PreviewPatronageAllocationQuery,
  type PreviewPatronageAllocationQueryVariables,
  PublishCityReportDocument,
  type PublishCityReportMutation,
  type PublishCityReportMutationVariables,
  RecordObligationsDocument,
  type RecordObligationsMutation,
  type RecordObligationsMutationVariables,
  RecordPatronageDocument,
  type RecordPatronageInput,
  type RecordPatronageMutation,
  RedeemRetainedPatronageDocument,
  type RedeemRetainedPatronageInput,
  type RedeemRetainedPatronageMutation,
  RegisterPartyDocument,
  type RegisterPartyInput,
  type RegisterPartyMutation,
  ReleasePaymentRequestDocument,
  type ReleasePaymentRequestMutation,
  type ReleasePaymentRequestMutationVariables,
  RepayRedemptionDocument,
  type RepayRedemptionInput,
  type RepayRedemptionMutation,
  ReportCoopProfileDocument,
  type ReportCoopProfileMutation,
  type ReportCoopProfileMutationVariables,
  ReverseJournalEntryDocument,
  type ReverseJournalEntryInput,
  type ReverseJournalEntryMutation,
  ReversePatronageAllocationDocument,
  type ReversePatronageAllocationInput,
  type ReversePatronageAllocationMutation,
  RevokeApiTokenDocument,
  type RevokeApiTokenInput,
  type RevokeApiTokenMutation,
  RevokeMemberTokenDocument,
  type RevokeMemberTokenInput,
  type RevokeMemberTokenMutation,
  RolledTrialBalanceDocument,
  type RolledTrialBalanceQuery,
  type RolledTrialBalanceQueryVariables,
  SetBankAccountOptionsDocument,
  type SetBankAccountOptionsMutation,
  type SetBankAccountOptionsMutationVariables,
  SetCreditLimitDocument,
  type SetCreditLimitMutation,
  type SetCreditLimitMutationVariables,
  SetCreditPolicyDocument,
  type SetCreditPolicyMutation,
  type SetCreditPolicyMutationVariables,
  SetPatronageConsentDocument,
  type SetPatronageConsentInput,
  type SetPatronageConsentMutation,
  SetPatronagePolicyDocument,
  type SetPatronagePolicyInput,
  type SetPatronagePolicyMutation,
  StartBankReconciliationDocument,
  type StartBankReconciliationMutation,
  type StartBankReconciliationMutationVariables,
  TransferSharesDocument,
  type TransferSharesInput,
  type TransferSharesMutation,
  TrialBalanceCsvDocument,
  type TrialBalanceCsvQueryVariables,
  TrialBalanceDocument,
  TrialBalancePageDocument,
  type TrialBalancePageQuery,
  type TrialBalancePageQueryVariables,
  type TrialBalanceQuery,
  type TrialBalanceQueryVariables,
  UnmatchBankLineDocument,
  type UnmatchBankLineMutation,
  type UnmatchBankLineMutationVariables,
  UpdateCoopDocument,
  type UpdateCoopInput,
  type UpdateCoopMutation,
  VerifyBookChainDocument,
  type VerifyBookChainQuery,
  type VerifyBookChainQueryVariables,
  VerifyPatronageRunDocument,
  type VerifyPatronageRunQuery,
  type VerifyPatronageRunQueryVariables,
  ViewerDocument,
  type ViewerQuery,
  VoidPendingEntryDocument,
  type VoidPendingEntryInput,
  type VoidPendingEntryMutation,
  VotingRollDocument,
  type VotingRollQuery,
  type VotingRollQueryVariables,
} from './generated/graphql.js';
import {
  type ConnectionPage,
  MAX_PAGE_SIZE,
  type PageFetcher,
  type PaginateOptions,
  paginate,
} from './paginate.js';
import {
  AttemptFailure,
  DEFAULT_RETRIES,
  DEFAULT_RETRY_BASE_DELAY_MS,
  DEFAULT_RETRY_MAX_DELAY_MS,
  isSafeToRetry,
  type OperationKind,
  parseRetryAfterMs,
  RETRYABLE_ERROR_CODES,
  type RetryPolicy,
  withRetries,
} from './retry.js';
import {
  documentIdOf,
  documentText,
  type GraphQLPayload,
  graphQLBodyOf,
  type HttpAnswer,
  isPersistedDocumentNotFound,
  isSuccess,
  newRequestId,
  postGraphQL,
} from './transport.js';

export * from './errors.js';
export * from './generated/graphql.js';
export {
  type ConnectionPage,
  MAX_PAGE_SIZE,
  type PageFetcher,
  type PaginateOptions,
  paginate,
} from './paginate.js';
export { carriesIdempotencyKey, isSafeToRetry, RETRYABLE_ERROR_CODES, type RetryPolicy } from './retry.js';
export { type Outcome, settle } from './settle.js';
export { documentIdOf, PERSISTED_DOCUMENT_NOT_FOUND_CODES } from './transport.js';
export type { TypedDocumentNode };

/** Response (and request) header carrying the id the server logs each request under. */
export const REQUEST_ID_HEADER = 'x-request-id';
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface LedgerClientOptions {
  /** The GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`. */
  url: string;
  /** Sent as `Authorization: Bearer <token>`; a function is called before every attempt (token refresh). */
  token?: string | (() => string | Promise<string>);
  /** A fetch implementation (default `globalThis.fetch`). */
  fetch?: typeof globalThis.fetch;
  /** Retries after the first attempt for operations that are safe to repeat; default 5 (6 attempts). 0 disables. */
  retries?: number;
  /** Time limit of one attempt (not of all retries together); default 30 000 ms. */
  timeoutMs?: number;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /** First backoff before jitter, doubling each retry; default 200 ms. */
  retryBaseDelayMs?: number;
  /** Longest single backoff, Retry-After included; default 10 000 ms. */
  retryMaxDelayMs?: number;
  /** Called before each retry's backoff, e.g. to log it. */
  onRetry?: (event: RetryEvent) => void;
  /**
   * Send the SDK's operations by their persisted document id (`documentId: "sha256:..."`) instead of
   * their text; default true. A service that does not know an id gets the text instead (in the same
   * attempt) and is not sent that id again by this client. Documents of your own (without an id
   * from codegen) are always sent as text.
   */
  persistedDocuments?: boolean;
}

export interface RetryEvent {
  operationName: string | undefined;
  /** The attempt that failed (1 for the first). */
  attempt: number;
  delayMs: number;
  error: LedgerClientError;
}

/** Per-call options. */
export interface CallOptions {
  /** Aborts the call (current attempt and any backoff); an aborted call is not retried. */
  signal?: AbortSignal;
  /** Extra headers for this call; `x-request-id` here replaces the id the SDK generates. */
  headers?: Record<string, string>;
}

/** Variables argument of {@link LedgerClient.request}: optional when the operation needs none. */
export type RequestArgs<TVariables> =
  Record<string, never> extends TVariables
    ? [variables?: TVariables, options?: CallOptions]
    : [variables: TVariables, options?: CallOptions];

/**
 * Connection variables for the iterators: the cursors (`after`, `before`) are theirs to manage. The
 * page size is `first` (or `last`), 100 by default; `{ backward: true }` in the options walks from
 * the end of the list (`last`/`before`), yielding nodes last first.
 */
export type IterateVariables<TVariables> = Omit<TVariables, 'after' | 'before'>;

type NodeOf<TConnection> = TConnection extends ConnectionPage<infer TNode> ? TNode : never;
export type Book = NodeOf<BooksQuery['books']>;
export type Account = NodeOf<AccountsQuery['accounts']>;
export type JournalEntry = NodeOf<JournalEntriesQuery['journalEntries']>;
export type Coop = NodeOf<CoopsQuery['coops']>;
export type DirectoryEntry = NodeOf<CoopDirectoryQuery['coopDirectory']>;
export type Membership = NodeOf<NonNullable<CoopMembershipsQuery['coop']>['memberships']>;
export type Party = NodeOf<NonNullable<CoopPartiesQuery['coop']>['parties']>;
export type CreditNetwork = NodeOf<CreditNetworksQuery['creditNetworks']>;
export type NetworkMember = NodeOf<NonNullable<CreditNetworkQuery['creditNetwork']>['members']>;
export type PaymentRequest = NodeOf<
  NonNullable<NetworkPaymentRequestsQuery['creditNetwork']>['paymentRequests']
>;
export type Obligation = NodeOf<NonNullable<NetworkObligationsQuery['creditNetwork']>['obligations']>;
/** A committed clearing with its first 100 lines (`lines.pageInfo` says whether there are more). */
export type Clearing = NodeOf<NonNullable<NetworkClearingsQuery['creditNetwork']>['clearings']>;
export type PatronageRun = NodeOf<PatronageRunsQuery['patronageRuns']>;
export type PatronageRecord = NodeOf<PatronageRecordsQuery['patronageRecords']>;

/** Variables of {@link LedgerClient.iterateMemberships}: a co-op's memberships, optionally in one state. */
export type CoopMembershipsVariables = CoopMembershipsQueryVariables;
/** Variables of {@link LedgerClient.iterateParties}. */
export type CoopPartiesVariables = CoopPartiesQueryVariables;

export interface LedgerClient {
  /** Sends any typed document (generated, or your own with codegen) with the same retry and error rules. */
  request<TResult, TVariables extends object>(
    document: TypedDocumentNode<TResult, TVariables>,
    ...args: RequestArgs<TVariables>
  ): Promise<TResult>;

  // Queries (retried on transient failures).
  book(variables: BookQueryVariables, options?: CallOptions): Promise<BookQuery['book']>;
  books(variables?: BooksQueryVariables, options?: CallOptions): Promise<BooksQuery['books']>;
  account(variables: AccountQueryVariables, options?: CallOptions): Promise<AccountQuery['account']>;
  accounts(variables: AccountsQueryVariables, options?: CallOptions): Promise<AccountsQuery['accounts']>;
  journalEntry(
    variables: JournalEntryQueryVariables,
    options?: CallOptions,
  ): Promise<JournalEntryQuery['journalEntry']>;
  journalEntries(
    variables: JournalEntriesQueryVariables,
    options?: CallOptions,
  ): Promise<JournalEntriesQuery['journalEntries']>;
  accountBalance(
    variables: AccountBalanceQueryVariables,
    options?: CallOptions,
  ): Promise<AccountBalanceQuery['accountBalance']>;
  trialBalance(
    variables: TrialBalanceQueryVariables,
    options?: CallOptions,
  ): Promise<TrialBalanceQuery['trialBalance']>;
  verifyBookChain(
    variables: VerifyBookChainQueryVariables,
    options?: CallOptions,
  ): Promise<VerifyBookChainQuery['verifyBookChain']>;
  /** The hash chain plus every stored account total and day total recomputed from the lines. */
  auditBook(variables: AuditBookQueryVariables, options?: CallOptions): Promise<AuditBookQuery['auditBook']>;
  node(variables: NodeQueryVariables, options?: CallOptions): Promise<NodeQuery['node']>;

  // Mutations without an idempotencyKey: sent exactly once, never retried.
  createBook(input: CreateBookInput, options?: CallOptions): Promise<CreateBookMutation['createBook']>;
  createAccount(
    input: CreateAccountInput,
    options?: CallOptions,
  ): Promise<CreateAccountMutation['createAccount']>;
  closeAccount(
    input: CloseAccountInput,
    options?: CallOptions,
  ): Promise<CloseAccountMutation['closeAccount']>;

  // Money-moving mutations: retried with the same idempotencyKey; a repeat answers `replayed: true`.
  postJournalEntry(
    input: PostJournalEntryInput,
    options?: CallOptions,
  ): Promise<PostJournalEntryMutation['postJournalEntry']>;
  /** Retried only when every entry carries an idempotencyKey (the schema requires it). */
  postJournalEntries(
    input: PostJournalEntriesInput,
    options?: CallOptions,
  ): Promise<PostJournalEntriesMutation['postJournalEntries']>;
  reverseJournalEntry(
    input: ReverseJournalEntryInput,
    options?: CallOptions,
  ): Promise<ReverseJournalEntryMutation['reverseJournalEntry']>;
  postPendingEntry(
    input: PostPendingEntryInput,
    options?: CallOptions,
  ): Promise<PostPendingEntryMutation['postPendingEntry']>;
  commitPendingEntry(
    input: CommitPendingEntryInput,
    options?: CallOptions,
  ): Promise<CommitPendingEntryMutation['commitPendingEntry']>;
  voidPendingEntry(
    input: VoidPendingEntryInput,
    options?: CallOptions,
  ): Promise<VoidPendingEntryMutation['voidPendingEntry']>;

  /** An account and its balance with nothing beyond it: what a MEMBER token may read. */
  ownAccount(variables: OwnAccountQueryVariables, options?: CallOptions): Promise<OwnAccountQuery['account']>;

  // Cooperatives and their members. A co-op is its book (Coop.book); TREASURER grants are on the book id.
  /** A co-op, with its member classes; null unless the caller is one of its treasurers (or an admin). */
  coop(variables: CoopQueryVariables, options?: CallOptions): Promise<CoopQuery['coop']>;
  /** Co-ops the caller may read, a page at a time. */
  coops(variables?: CoopsQueryVariables, options?: CallOptions): Promise<CoopsQuery['coops']>;
  /** A page of the public directory (listed co-ops only; no token needed). */
  coopDirectory(
    variables?: CoopDirectoryQueryVariables,
    options?: CallOptions,
  ): Promise<CoopDirectoryQuery['coopDirectory']>;
  /** A page of a co-op's memberships; null when the caller may not read the co-op. */
  coopMemberships(
    variables: CoopMembershipsQueryVariables,
    options?: CallOptions,
  ): Promise<NonNullable<CoopMembershipsQuery['coop']>['memberships'] | null>;
  /** A page of a co-op's register of people and organisations; null when the caller may not read the co-op. */
  coopParties(
    variables: CoopPartiesQueryVariables,
    options?: CallOptions,
  ): Promise<NonNullable<CoopPartiesQuery['coop']>['parties'] | null>;
  /** A membership with its history and schedule; null unless the caller is a treasurer of its co-op or the member. */
  membership(
    variables: MembershipQueryVariables,
    options?: CallOptions,
  ): Promise<MembershipQuery['membership']>;
  /** The memberships a MEMBER token's grants name (empty for other tokens). */
  myMemberships(options?: CallOptions): Promise<MyMembershipsQuery['myMemberships']>;
  /** A person or organisation; null unless the caller is a treasurer of its co-op or that person. */
  party(variables: PartyQueryVariables, options?: CallOptions): Promise<PartyQuery['party']>;
  /** Who may vote on a date (`on`: "YYYY-MM-DD"); null unless the caller is a treasurer of the co-op. */
  votingRoll(
    variables: VotingRollQueryVariables,
    options?: CallOptions,
  ): Promise<VotingRollQuery['votingRoll']>;
  /** A member's accounts over a period (inclusive dates); for its co-op's treasurers and the member. */
  memberStatement(
    variables: MemberStatementQueryVariables,
    options?: CallOptions,
  ): Promise<MemberStatementQuery['memberStatement']>;
  /** Admins only. Not retried (no idempotency key). */
  createCoop(input: CreateCoopInput, options?: CallOptions): Promise<CreateCoopMutation['createCoop']>;
  /** Not retried (no idempotency key). */
  updateCoop(input: UpdateCoopInput, options?: CallOptions): Promise<UpdateCoopMutation['updateCoop']>;
  /** Retried when `idempotencyKey` is given (a repeat answers `replayed: true`); sent once without one. */
  createMemberClass(
    input: CreateMemberClassInput,
    options?: CallOptions,
  ): Promise<CreateMemberClassMutation['createMemberClass']>;
  /** Retried when `idempotencyKey` is given (a repeat answers `replayed: true`); sent once without one. */
  registerParty(
    input: RegisterPartyInput,
    options?: CallOptions,
  ): Promise<RegisterPartyMutation['registerParty']>;
  /** Retried with the same idempotencyKey; a repeat answers `replayed: true`. */
  joinCoop(input: JoinCoopInput, options?: CallOptions): Promise<JoinCoopMutation['joinCoop']>;
  /** Retried with the same idempotencyKey. */
  changeMembershipState(
    input: ChangeMembershipStateInput,
    options?: CallOptions,
  ): Promise<ChangeMembershipStateMutation['changeMembershipState']>;
  /** Retried with the same idempotencyKey. */
  payInstalment(
    input: PayInstalmentInput,
    options?: CallOptions,
  ): Promise<PayInstalmentMutation['payInstalment']>;
  /** Retried with the same idempotencyKey. */
  repayRedemption(
    input: RepayRedemptionInput,
    options?: CallOptions,
  ): Promise<RepayRedemptionMutation['repayRedemption']>;
  /** Retried with the same idempotencyKey. */
  transferShares(
    input: TransferSharesInput,
    options?: CallOptions,
  ): Promise<TransferSharesMutation['transferShares']>;
  /** All or nothing per file; retried with the same idempotencyKey (a repeat answers `replayed: true`). */
  importMembersCsv(
    input: ImportMembersCsvInput,
    options?: CallOptions,
  ): Promise<ImportMembersCsvMutation['importMembersCsv']>;
  /**
   * A co-op's treasurers invite a member: a token with MEMBER grants on the membership's own
   * accounts. Not retried (no idempotency key: a repeat would issue a second token); the token in
   * the answer is shown only once.
   */
  issueMemberToken(
    input: IssueMemberTokenInput,
    options?: CallOptions,
  ): Promise<IssueMemberTokenMutation['issueMemberToken']>;
  /** Revokes one of the co-op's member tokens (another token id answers like an unknown one). Not retried. */
  revokeMemberToken(
    input: RevokeMemberTokenInput,
    options?: CallOptions,
  ): Promise<RevokeMemberTokenMutation['revokeMemberToken']>;
  /** The co-op's member tokens (no secrets); null when the caller may not read the co-op. */
  memberTokens(
    variables: CoopMemberTokensQueryVariables,
    options?: CallOptions,
  ): Promise<NonNullable<CoopMemberTokensQuery['coop']>['memberTokens'] | null>;

  // Patronage (issue 13). Treasurers (and admins) set the policy, record patronage, preview, commit,
  // reverse and pay runs; a MEMBER token reads its own allocations and notices.
  /** The latest policy version (or `version`); null unless the caller is a treasurer of the co-op. */
  patronagePolicy(
    variables: PatronagePolicyQueryVariables,
    options?: CallOptions,
  ): Promise<PatronagePolicyQuery['patronagePolicy']>;
  /** Every policy version, oldest first. */
  patronagePolicies(
    variables: PatronagePoliciesQueryVariables,
    options?: CallOptions,
  ): Promise<PatronagePoliciesQuery['patronagePolicies']>;
  /** A run's figures computed now, nothing posted (`preview` null with `userErrors` on a rejection). */
  previewPatronageAllocation(
    variables: PreviewPatronageAllocationQueryVariables,
    options?: CallOptions,
  ): Promise<PreviewPatronageAllocationQuery['previewPatronageAllocation']>;
  /** A run with a page of its allocations; null unless the caller is a treasurer of the co-op. */
  patronageRun(
    variables: PatronageRunQueryVariables,
    options?: CallOptions,
  ): Promise<PatronageRunQuery['patronageRun']>;
  /** A page of the co-op's runs, newest first. */
  patronageRuns(
    variables: PatronageRunsQueryVariables,
    options?: CallOptions,
  ): Promise<PatronageRunsQuery['patronageRuns']>;
  /** Recomputes a run from its stored inputs: hash and every cent. */
  verifyPatronageRun(
    variables: VerifyPatronageRunQueryVariables,
    options?: CallOptions,
  ): Promise<VerifyPatronageRunQuery['verifyPatronageRun']>;
  /** A page of the co-op's patronage records. */
  patronageRecords(
    variables: PatronageRecordsQueryVariables,
    options?: CallOptions,
  ): Promise<PatronageRecordsQuery['patronageRecords']>;
  /** The caller's own allocations (a MEMBER token's), newest fiscal year first. */
  myPatronageAllocations(
    options?: CallOptions,
  ): Promise<MyPatronageAllocationsQuery['myPatronageAllocations']>;
  /** A member's notice of allocation (HTML and base64 PDF); for treasurers and that member. */
  patronageNotice(
    variables: PatronageNoticeQueryVariables,
    options?: CallOptions,
  ): Promise<PatronageNoticeQuery['patronageNotice']>;
  /** The notice's PDF as bytes; null when the notice is not the caller's to read. */
  patronageNoticePdf(
    variables: PatronageNoticeQueryVariables,
    options?: CallOptions,
  ): Promise<Uint8Array | null>;
  /** 1099-PATR data for a calendar year (CSV and rows). */
  patronageTaxForms(
    variables: PatronageTaxFormsQueryVariables,
    options?: CallOptions,
  ): Promise<PatronageTaxFormsQuery['patronageTaxForms']>;
  /** A new policy version. Retried only when `idempotencyKey` is given. */
  setPatronagePolicy(
    input: SetPatronagePolicyInput,
    options?: CallOptions,
  ): Promise<SetPatronagePolicyMutation['setPatronagePolicy']>;
  /** Not retried (no idempotency key); setting the same consent again changes nothing. */
  setPatronageConsent(
    input: SetPatronageConsentInput,
    options?: CallOptions,
  ): Promise<SetPatronageConsentMutation['setPatronageConsent']>;
  /** Retried with the same idempotencyKey. */
  recordPatronage(
    input: RecordPatronageInput,
    options?: CallOptions,
  ): Promise<RecordPatronageMutation['recordPatronage']>;
  /** Retried with the same idempotencyKey; the same key and file answer the first import. */
  importPatronageCsv(
    input: ImportPatronageCsvInput,
    options?: CallOptions,
  ): Promise<ImportPatronageCsvMutation['importPatronageCsv']>;
  /** Retried with the same idempotencyKey; a repeat answers `replayed: true` and posts nothing. */
  commitPatronageAllocation(
    input: CommitPatronageAllocationInput,
    options?: CallOptions,
  ): Promise<CommitPatronageAllocationMutation['commitPatronageAllocation']>;
  /** Retried with the same idempotencyKey. */
  reversePatronageAllocation(
    input: ReversePatronageAllocationInput,
    options?: CallOptions,
  ): Promise<ReversePatronageAllocationMutation['reversePatronageAllocation']>;
  /** Retried with the same idempotencyKey. */
  payPatronageCash(
    input: PayPatronageCashInput,
    options?: CallOptions,
  ): Promise<PayPatronageCashMutation['payPatronageCash']>;
  /** Retried with the same idempotencyKey. */
  redeemRetainedPatronage(
    input: RedeemRetainedPatronageInput,
    options?: CallOptions,
  ): Promise<RedeemRetainedPatronageMutation['redeemRetainedPatronage']>;

  // Mutual credit (issue 14). Admins create networks; stewards manage members, limits, policy and clearing;
  // a member co-op's treasurer pays, requests, records what it owes and reads its own account. Keyed
  // mutations are retried with the same idempotencyKey.
  creditNetwork(
    variables: CreditNetworkQueryVariables,
    options?: CallOptions,
  ): Promise<CreditNetworkQuery['creditNetwork']>;
  creditNetworks(
    variables: CreditNetworksQueryVariables,
    options?: CallOptions,
  ): Promise<CreditNetworksQuery['creditNetworks']>;
  creditPolicyHistory(
    variables: CreditPolicyHistoryQueryVariables,
    options?: CallOptions,
  ): Promise<CreditPolicyHistoryQuery['creditNetwork']>;
  networkMemberHistory(
    variables: NetworkMemberHistoryQueryVariables,
    options?: CallOptions,
  ): Promise<NetworkMemberHistoryQuery['creditNetwork']>;
  networkPaymentRequests(
    variables: NetworkPaymentRequestsQueryVariables,
    options?: CallOptions,
  ): Promise<NetworkPaymentRequestsQuery['creditNetwork']>;
  paymentRequest(
    variables: PaymentRequestQueryVariables,
    options?: CallOptions,
  ): Promise<PaymentRequestQuery['paymentRequest']>;
  networkObligations(
    variables: NetworkObligationsQueryVariables,
    options?: CallOptions,
  ): Promise<NetworkObligationsQuery['creditNetwork']>;
  networkBalanceProof(
    variables: NetworkBalanceProofQueryVariables,
    options?: CallOptions,
  ): Promise<NetworkBalanceProofQuery['creditNetwork']>;
  networkStatistics(
    variables: NetworkStatisticsQueryVariables,
    options?: CallOptions,
  ): Promise<NetworkStatisticsQuery['creditNetwork']>;
  networkClearings(
    variables: NetworkClearingsQueryVariables,
    options?: CallOptions,
  ): Promise<NetworkClearingsQuery['creditNetwork']>;
  previewClearing(
    variables: PreviewClearingQueryVariables,
    options?: CallOptions,
  ): Promise<PreviewClearingQuery['previewClearing']>;
  createCreditNetwork(
    input: CreateCreditNetworkMutationVariables['input'],
    options?: CallOptions,
  ): Promise<CreateCreditNetworkMutation['createCreditNetwork']>;
  addNetworkCurrency(
    input: AddNetworkCurrencyMutationVariables['input'],
    options?: CallOptions,
  ): Promise<AddNetworkCurrencyMutation['addNetworkCurrency']>;
  setCreditPolicy(
    input: SetCreditPolicyMutationVariables['input'],
    options?: CallOptions,
  ): Promise<SetCreditPolicyMutation['setCreditPolicy']>;
  joinCreditNetwork(
    input: JoinCreditNetworkMutationVariables['input'],
    options?: CallOptions,
  ): Promise<JoinCreditNetworkMutation['joinCreditNetwork']>;
  setCreditLimit(
    input: SetCreditLimitMutationVariables['input'],
    options?: CallOptions,
  ): Promise<SetCreditLimitMutation['setCreditLimit']>;
  applyCreditPolicy(
    input: ApplyCreditPolicyMutationVariables['input'],
    options?: CallOptions,
  ): Promise<ApplyCreditPolicyMutation['applyCreditPolicy']>;
  payInNetwork(
    input: PayInNetworkMutationVariables['input'],
    options?: CallOptions,
  ): Promise<PayInNetworkMutation['payInNetwork']>;
  createPaymentRequest(
    input: CreatePaymentRequestMutationVariables['input'],
    options?: CallOptions,
  ): Promise<CreatePaymentRequestMutation['createPaymentRequest']>;
  acceptPaymentRequest(
    input: AcceptPaymentRequestMutationVariables['input'],
    options?: CallOptions,
  ): Promise<AcceptPaymentRequestMutation['acceptPaymentRequest']>;
  declinePaymentRequest(
    input: DeclinePaymentRequestMutationVariables['input'],
    options?: CallOptions,
  ): Promise<DeclinePaymentRequestMutation['declinePaymentRequest']>;
  cancelPaymentRequest(
    input: CancelPaymentRequestMutationVariables['input'],
    options?: CallOptions,
  ): Promise<CancelPaymentRequestMutation['cancelPaymentRequest']>;
  completePaymentRequest(
    input: CompletePaymentRequestMutationVariables['input'],
    options?: CallOptions,
  ): Promise<CompletePaymentRequestMutation['completePaymentRequest']>;
  releasePaymentRequest(
    input: ReleasePaymentRequestMutationVariables['input'],
    options?: CallOptions,
  ): Promise<ReleasePaymentRequestMutation['releasePaymentRequest']>;
  recordObligations(
    input: RecordObligationsMutationVariables['input'],
    options?: CallOptions,
  ): Promise<RecordObligationsMutation['recordObligations']>;
  importObligationsCsv(
    input: ImportObligationsCsvMutationVariables['input'],
    options?: CallOptions,
  ): Promise<ImportObligationsCsvMutation['importObligationsCsv']>;
  commitClearing(
    input: CommitClearingMutationVariables['input'],
    options?: CallOptions,
  ): Promise<CommitClearingMutation['commitClearing']>;

  // Identities. `viewer` answers null without a token; the token operations are for admins.
  viewer(options?: CallOptions): Promise<ViewerQuery['viewer']>;
  apiTokens(options?: CallOptions): Promise<ApiTokensQuery['apiTokens']>;
  /** Not retried (it carries no idempotency key). The token in the answer is shown only once. */
  issueApiToken(
    input: IssueApiTokenInput,
    options?: CallOptions,
  ): Promise<IssueApiTokenMutation['issueApiToken']>;
  revokeApiToken(
    input: RevokeApiTokenInput,
    options?: CallOptions,
  ): Promise<RevokeApiTokenMutation['revokeApiToken']>;

  // Walking connections.
  /** Yields every node of any connection, forward or (`{ backward: true }`) backward; see {@link paginate}. */
  paginate<TNode>(
    fetchPage: PageFetcher<TNode>,
    options?: PaginateOptions,
  ): AsyncGenerator<TNode, void, undefined>;
  iterateBooks(
    variables?: IterateVariables<BooksQueryVariables>,
    options?: CallOptions & PaginateOptions,
  ): AsyncGenerator<Book, void, undefined>;
  iterateAccounts(
    variables: IterateVariables<AccountsQueryVariables>,
    options?: CallOptions & PaginateOptions,
  ): AsyncGenerator<Account, void, undefined>;
  iterateJournalEntries(
    variables: IterateVariables<JournalEntriesQueryVariables>,
    options?: CallOptions & PaginateOptions,
  ): AsyncGenerator<JournalEntry, void, undefined>;
  iterateCoops(
    variables?: IterateVariables<CoopsQueryVariables>,
    options?: CallOptions & PaginateOptions,
  ): AsyncGenerator<Coop, void, undefined>;
  /** Every listed co-op of the public directory (optionally of one city or kind). */
  iterateCoopDirectory(
    variables?: IterateVariables<CoopDirectoryQueryVariables>,
    options?: CallOptions & PaginateOptions,
  ): AsyncGenerator<DirectoryEntry, void, undefined>;
  /** Every membership of a co-op by member number (nothing when the caller may not read the co-op). */
  iterateMemberships(
    variables: IterateVariables<CoopMembershipsQueryVariables>,
    options?: CallOptions & PaginateOptions,
  ): AsyncGenerator<Membership, void, undefined>;
  iterateParties(
    variables: IterateVariables<CoopPartiesQueryVariables>,
    options?: CallOptions & PaginateOptions,
  ): AsyncGenerator<Party, void, undefined>;
  /** Every mutual-credit network the caller may read. */
  iterateCreditNetworks(
    variables?: IterateVariables<CreditNetworksQueryVariables>,
    options?: CallOptions & PaginateOptions,
  ): AsyncGenerator<CreditNetwork, void, undefined>;
  /** Every member of a network by member number (nothing when the caller may not read it), either way. */
  iterateNetworkMembers(
    variables: IterateVariables<CreditNetworkQueryVariables>,
    options?: CallOptions & PaginateOptions,
  ): AsyncGenerator<NetworkMember, void, undefined>;
  /** A network's payment requests the caller may see (optionally one member's), either way. */
  iterateNetworkPaymentRequests(
    variables: IterateVariables<NetworkPaymentRequestsQueryVariables>,
    options?: CallOptions & PaginateOptions,
  ): AsyncGenerator<PaymentRequest, void, undefined>;
  /** A network's obligations the caller may see (filters as `networkObligations`), either way. */
  iterateNetworkObligations(
    variables: IterateVariables<NetworkObligationsQueryVariables>,
    options?: CallOptions & PaginateOptions,
  ): AsyncGenerator<Obligation, void, undefined>;
  /** A network's committed clearings, either way (nothing when the caller may not read the network). */
  iterateNetworkClearings(
    variables: IterateVariables<NetworkClearingsQueryVariables>,
    options?: CallOptions & PaginateOptions,
  ): AsyncGenerator<Clearing, void, undefined>;
  /** A co-op's patronage runs, newest first (`backward: true` walks from the oldest). */
  iteratePatronageRuns(
    variables: IterateVariables<PatronageRunsQueryVariables>,
    options?: CallOptions & PaginateOptions,
  ): AsyncGenerator<PatronageRun, void, undefined>;
  /** A co-op's patronage records (optionally one member's, a period), in recording order, either way. */
  iteratePatronageRecords(
    variables: IterateVariables<PatronageRecordsQueryVariables>,
    options?: CallOptions & PaginateOptions,
  ): AsyncGenerator<PatronageRecord, void, undefined>;

  // The treasurer's desk (issue 17): accounts by code, statements and their files.
  /** The account of a book with this code; null when there is none or the caller may not read the book. */
  accountByCode(
    variables: AccountByCodeQueryVariables,
    options?: CallOptions,
  ): Promise<AccountByCodeQuery['account']>;
  /** Revenue and expenses over a period (inclusive days), per unit; null for a book the caller may not read. */
  incomeStatement(
    variables: IncomeStatementQueryVariables,
    options?: CallOptions,
  ): Promise<IncomeStatementQuery['incomeStatement']>;
  /** Assets, liabilities and equity as of a day, with the period's result, per unit. */
  balanceSheet(
    variables: BalanceSheetQueryVariables,
    options?: CallOptions,
  ): Promise<BalanceSheetQuery['balanceSheet']>;
  /** The income statement as files: `csv` text and `pdf` bytes. */
  incomeStatementFiles(
    variables: IncomeStatementFileQueryVariables,
    options?: CallOptions,
  ): Promise<StatementFiles | null>;
  /** The balance sheet as files: `csv` text and `pdf` bytes. */
  balanceSheetFiles(
    variables: BalanceSheetFileQueryVariables,
    options?: CallOptions,
  ): Promise<StatementFiles | null>;
  /** The trial balance with depths, optionally rolled up (`rollupDepth`), and as CSV. */
  rolledTrialBalance(
    variables: RolledTrialBalanceQueryVariables,
    options?: CallOptions,
  ): Promise<RolledTrialBalanceQuery['trialBalance']>;
  /** The trial balance as CSV, every line however many (null for a book the caller may not read). */
  trialBalanceCsv(variables: TrialBalanceCsvQueryVariables, options?: CallOptions): Promise<string | null>;
  /**
   * One page of the trial balance's lines: `first` (1 to TRIAL_BALANCE_PAGE_MAX) lines after `after`
   * (the `cursor` of the previous page's last line), with `lineCount` and the unit totals.
   */
  trialBalancePage(
    variables: TrialBalancePageQueryVariables,
    options?: CallOptions,
  ): Promise<TrialBalancePageQuery['trialBalance']>;
  /**
   * Every line of the trial balance, read in pages of `pageSize` (default and at most
   * TRIAL_BALANCE_PAGE_MAX). When the lines are more than one page and no `asOf` is given, the pages
   * are read as of one instant (this machine's clock when the second page is asked), so that they
   * agree with each other and with the unit totals while entries are being posted.
   */
  trialBalanceAllLines(
    variables: Omit<TrialBalancePageQueryVariables, 'first' | 'after'> & { pageSize?: number },
    options?: CallOptions,
  ): Promise<TrialBalancePageQuery['trialBalance']>;
  /** Journal entries from a CSV file, all or nothing; retried with the same idempotencyKey (a repeat answers `replayed: true`). */
  importJournalCsv(
    input: ImportJournalCsvInput,
    options?: CallOptions,
  ): Promise<ImportJournalCsvMutation['importJournalCsv']>;

  // Bank statements and reconciliation (issue 17), for the book's treasurers. Imports and postings
  // are retried with the same idempotencyKey (a repeat answers `replayed: true`).
  /** A bank account (an ASSET or LIABILITY account) with its CSV mapping and rules; null when unreadable. */
  bankAccount(
    variables: BankAccountQueryVariables,
    options?: CallOptions,
  ): Promise<BankAccountQuery['bankAccount']>;
  bankStatements(
    variables: BankStatementsQueryVariables,
    options?: CallOptions,
  ): Promise<NonNullable<BankStatementsQuery['bankAccount']>['statements'] | null>;
  bankLines(
    variables: BankLinesQueryVariables,
    options?: CallOptions,
  ): Promise<NonNullable<BankLinesQuery['bankAccount']>['lines'] | null>;
  /** An entry for each unmatched line that one stands for; nothing is stored until confirmed. */
  bankMatchSuggestions(
    variables: BankMatchSuggestionsQueryVariables,
    options?: CallOptions,
  ): Promise<NonNullable<BankMatchSuggestionsQuery['bankAccount']>['suggestions'] | null>;
  bankReconciliations(
    variables: BankReconciliationsQueryVariables,
    options?: CallOptions,
  ): Promise<NonNullable<BankReconciliationsQuery['bankAccount']>['reconciliations'] | null>;
  bankStatement(
    variables: BankStatementQueryVariables,
    options?: CallOptions,
  ): Promise<BankStatementQuery['bankStatement']>;
  bankReconciliation(
    variables: BankReconciliationQueryVariables,
    options?: CallOptions,
  ): Promise<BankReconciliationQuery['bankReconciliation']>;
  setBankAccountOptions(
    input: SetBankAccountOptionsMutationVariables['input'],
    options?: CallOptions,
  ): Promise<SetBankAccountOptionsMutation['setBankAccountOptions']>;
  /** City reporting (issue 15): cells of a city's protected release (its analysts). */
  cityReport(
    input: CityReportQueryVariables['input'],
    options?: CallOptions,
  ): Promise<CityReportQuery['cityReport']>;
  cityReportReleases(
    variables: CityReportReleasesQueryVariables,
    options?: CallOptions,
  ): Promise<CityReportReleasesQuery['cityReportReleases']>;
  /** A release as open data (CSV, or JSON with its data dictionary). */
  cityReportExport(
    variables: CityReportExportQueryVariables,
    options?: CallOptions,
  ): Promise<CityReportExportQuery['cityReportExport']>;
  coopReportingProfiles(
    variables: CoopReportingProfilesQueryVariables,
    options?: CallOptions,
  ): Promise<CoopReportingProfilesQuery['coopReportingProfiles']>;
  reportCoopProfile(
    input: ReportCoopProfileMutationVariables['input'],
    options?: CallOptions,
  ): Promise<ReportCoopProfileMutation['reportCoopProfile']>;
  publishCityReport(
    input: PublishCityReportMutationVariables['input'],
    options?: CallOptions,
  ): Promise<PublishCityReportMutation['publishCityReport']>;
  importBankStatement(
    input: ImportBankStatementMutationVariables['input'],
    options?: CallOptions,
  ): Promise<ImportBankStatementMutation['importBankStatement']>;
  confirmBankMatches(
    input: ConfirmBankMatchesMutationVariables['input'],
    options?: CallOptions,
  ): Promise<ConfirmBankMatchesMutation['confirmBankMatches']>;
  acceptBankSuggestions(
    input: AcceptBankSuggestionsMutationVariables['input'],
    options?: CallOptions,
  ): Promise<AcceptBankSuggestionsMutation['acceptBankSuggestions']>;
  unmatchBankLine(
    input: UnmatchBankLineMutationVariables['input'],
    options?: CallOptions,
  ): Promise<UnmatchBankLineMutation['unmatchBankLine']>;
  createBankRule(
    input: CreateBankRuleMutationVariables['input'],
    options?: CallOptions,
  ): Promise<CreateBankRuleMutation['createBankRule']>;
  deleteBankRule(
    input: DeleteBankRuleMutationVariables['input'],
    options?: CallOptions,
  ): Promise<DeleteBankRuleMutation['deleteBankRule']>;
  applyBankRules(
    input: ApplyBankRulesMutationVariables['input'],
    options?: CallOptions,
  ): Promise<ApplyBankRulesMutation['applyBankRules']>;
  postBankLine(
    input: PostBankLineMutationVariables['input'],
    options?: CallOptions,
  ): Promise<PostBankLineMutation['postBankLine']>;
  startBankReconciliation(
    input: StartBankReconciliationMutationVariables['input'],
    options?: CallOptions,
  ): Promise<StartBankReconciliationMutation['startBankReconciliation']>;
  closeBankReconciliation(
    input: CloseBankReconciliationMutationVariables['input'],
    options?: CallOptions,
  ): Promise<CloseBankReconciliationMutation['closeBankReconciliation']>;
}

/** A statement as downloads: a file name without extension, CSV text and the PDF's bytes. */
export interface StatementFiles {
  fileName: string;
  csv: string;
  pdf: Uint8Array;
}

/** Lines one request may ask of the trial balance (the service refuses more: TOO_MANY_LINES). */
export const TRIAL_BALANCE_PAGE_MAX = 2000;

const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

export function createLedgerClient(options: LedgerClientOptions): LedgerClient {
  const policy: RetryPolicy = {
    retries: nonNegativeInteger('retries', options.retries ?? DEFAULT_RETRIES),
    baseDelayMs: nonNegativeInteger(
      'retryBaseDelayMs',
      options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS,
    ),
    maxDelayMs: nonNegativeInteger('retryMaxDelayMs', options.retryMaxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS),
  };
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);
  // `fetch` is looked up per request so that a test or polyfill replacing globalThis.fetch later works.
  const fetchFn: typeof globalThis.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const persisted = options.persistedDocuments ?? true;
  // Ids this service answered PERSISTED_DOCUMENT_NOT_FOUND to: sent as text from then on.
  const unknownIds = new Set<string>();

  async function send<TResult, TVariables extends object>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables: TVariables | undefined,
    call: CallOptions = {},
  ): Promise<TResult> {
    const operation = describeOperation(document);
    // Frozen copy: every attempt sends the very same variables (and idempotencyKey), even if the
    // caller mutates its object while we back off.
    const sent = variables === undefined ? undefined : structuredClone(variables);
    const callHeaders = new Headers(options.headers);
    for (const [name, value] of Object.entries(call.headers ?? {})) callHeaders.set(name, value);
    const requestIdBase = callHeaders.get(REQUEST_ID_HEADER) ?? newRequestId();
    // One id per attempt, sharing a prefix, so the server's log lines of all attempts are found together.
    const requestIdOf = (attempt: number) => (attempt <= 1 ? requestIdBase : `${requestIdBase}-${attempt}`);
    const documentId = persisted ? documentIdOf(document) : undefined;
    const text = documentText(document);
    const payload = (byId: boolean): GraphQLPayload => ({
      ...(byId ? { documentId } : { query: text }),
      ...(operation.name === undefined ? {} : { operationName: operation.name }),
      ...(sent === undefined ? {} : { variables: sent }),
    });

    return withRetries<TResult, LedgerClientError>(
      async (attempt) => {
        const requestId = requestIdOf(attempt);
        const headers = new Headers(callHeaders);
        headers.set(REQUEST_ID_HEADER, requestId);
        const token = typeof options.token === 'function' ? await options.token() : options.token;
        if (token !== undefined && token !== '') headers.set('authorization', `Bearer ${token}`);

        const timeout = AbortSignal.timeout(timeoutMs);
        const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
        const context = {
          operationName: operation.name,
          requestId,
          attempts: attempt,
          timeoutMs,
        };
        let answer: HttpAnswer;
        try {
          const byId = documentId !== undefined && !unknownIds.has(documentId);
          answer = await postGraphQL(fetchFn, options.url, payload(byId), headers, signal, text);
          if (byId && isPersistedDocumentNotFound(answer)) {
            // Nothing ran: this service does not know the id. Send the text, now and from now on.
            unknownIds.add(documentId);
            answer = await postGraphQL(fetchFn, options.url, payload(false), headers, signal, text);
          }
        } catch (raw) {
          const { error, retryAfterMs } = toLedgerClientError(raw, {
            operationName: operation.name,
            requestId,
            attempts: attempt,
            aborted: call.signal?.aborted === true,
            timedOut: timeout.aborted,
            timeoutMs,
          });
          throw new AttemptFailure(error, error.retryable, retryAfterMs);
        }
        if (isSuccess(answer)) return graphQLBodyOf(answer)!.data as TResult;
        const { error, retryAfterMs } = answerError(answer, context);
        throw new AttemptFailure(error, error.retryable, retryAfterMs);
      },
      {
        policy,
        safeToRetry: isSafeToRetry(operation.kind, sent),
        signal: call.signal,
        onRetry: (attempt, delayMs, error) =>
          options.onRetry?.({ operationName: operation.name, attempt, delayMs, error }),
        aborted: (reason, attempts) =>
          toLedgerClientError(reason, {
            operationName: operation.name,
            requestId: requestIdOf(attempts),
            attempts,
            aborted: true,
            timedOut: false,
            timeoutMs,
          }).error,
      },
    );
  }

  const request = <TResult, TVariables extends object>(
    document: TypedDocumentNode<TResult, TVariables>,
    ...[variables, call]: RequestArgs<TVariables>
  ): Promise<TResult> => send(document, variables, call);

  /** A method that sends `document` with `variables` and returns the root field `field`. */
  function query<TResult, TVariables extends object, K extends keyof TResult>(
    document: TypedDocumentNode<TResult, TVariables>,
    field: K,
  ) {
    return async (variables: TVariables, call?: CallOptions): Promise<TResult[K]> =>
      (await send(document, variables, call))[field];
  }

  /** A mutation method: wraps `input` as `{ input }` and returns the payload. */
  function mutation<TResult, TInput, K extends keyof TResult>(
    document: TypedDocumentNode<TResult, { input: TInput }>,
    field: K,
  ) {
    return async (input: TInput, call?: CallOptions): Promise<TResult[K]> =>
      (await send(document, { input }, call))[field];
  }

  const books = query(BooksDocument, 'books');
  const accounts = query(AccountsDocument, 'accounts');
  const journalEntries = query(JournalEntriesDocument, 'journalEntries');
  const coops = query(CoopsDocument, 'coops');
  const coopDirectory = query(CoopDirectoryDocument, 'coopDirectory');
  const noPage = {
    edges: [],
    pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
  };
  const coopMemberships = async (variables: CoopMembershipsQueryVariables, call?: CallOptions) =>
    (await send(CoopMembershipsDocument, variables, call)).coop?.memberships ?? null;
  const coopParties = async (variables: CoopPartiesQueryVariables, call?: CallOptions) =>
    (await send(CoopPartiesDocument, variables, call)).coop?.parties ?? null;

  function iterate<TVariables extends { first?: number | null; last?: number | null }, TNode>(
    fetch: (variables: TVariables, call?: CallOptions) => Promise<ConnectionPage<TNode>>,
    variables: Omit<TVariables, 'after' | 'before'>,
    { maxPages, backward, ...call }: CallOptions & PaginateOptions = {},
  ): AsyncGenerator<TNode, void, undefined> {
    const { first, last, ...rest } = variables;
    const size = first ?? last ?? MAX_PAGE_SIZE;
    return paginate(
      (cursor) =>
        fetch(
          (backward
            ? { ...rest, last: size, before: cursor }
            : { ...rest, first: size, after: cursor }) as unknown as TVariables,
          call,
        ),
      { ...(maxPages === undefined ? {} : { maxPages }), ...(backward ? { backward } : {}) },
    );
  }

  return {
    request,
    book: query(BookDocument, 'book'),
    books: (variables = {}, call) => books(variables, call),
    account: query(AccountDocument, 'account'),
    accounts,
    journalEntry: query(JournalEntryDocument, 'journalEntry'),
    journalEntries,
    accountBalance: query(AccountBalanceDocument, 'accountBalance'),
    trialBalance: query(TrialBalanceDocument, 'trialBalance'),
    verifyBookChain: query(VerifyBookChainDocument, 'verifyBookChain'),
    auditBook: query(AuditBookDocument, 'auditBook'),
    node: query(NodeDocument, 'node'),
    createBook: mutation(CreateBookDocument, 'createBook'),
    createAccount: mutation(CreateAccountDocument, 'createAccount'),
    closeAccount: mutation(CloseAccountDocument, 'closeAccount'),
    postJournalEntry: mutation(PostJournalEntryDocument, 'postJournalEntry'),
    postJournalEntries: mutation(PostJournalEntriesDocument, 'postJournalEntries'),
    reverseJournalEntry: mutation(ReverseJournalEntryDocument, 'reverseJournalEntry'),
    postPendingEntry: mutation(PostPendingEntryDocument, 'postPendingEntry'),
    commitPendingEntry: mutation(CommitPendingEntryDocument, 'commitPendingEntry'),
    voidPendingEntry: mutation(VoidPendingEntryDocument, 'voidPendingEntry'),
    ownAccount: query(OwnAccountDocument, 'account'),
    coop: query(CoopDocument, 'coop'),
    coops: (variables = {}, call) => coops(variables, call),
    coopDirectory: (variables = {}, call) => coopDirectory(variables, call),
    coopMemberships,
    coopParties,
    membership: query(MembershipDocument, 'membership'),
    myMemberships: async (call) => (await send(MyMembershipsDocument, {}, call)).myMemberships,
    party: query(PartyDocument, 'party'),
    votingRoll: query(VotingRollDocument, 'votingRoll'),
    memberStatement: query(MemberStatementDocument, 'memberStatement'),
    createCoop: mutation(CreateCoopDocument, 'createCoop'),
    updateCoop: mutation(UpdateCoopDocument, 'updateCoop'),
    createMemberClass: mutation(CreateMemberClassDocument, 'createMemberClass'),
    registerParty: mutation(RegisterPartyDocument, 'registerParty'),
    joinCoop: mutation(JoinCoopDocument, 'joinCoop'),
    changeMembershipState: mutation(ChangeMembershipStateDocument, 'changeMembershipState'),
    payInstalment: mutation(PayInstalmentDocument, 'payInstalment'),
    repayRedemption: mutation(RepayRedemptionDocument, 'repayRedemption'),
    transferShares: mutation(TransferSharesDocument, 'transferShares'),
    importMembersCsv: mutation(ImportMembersCsvDocument, 'importMembersCsv'),
    issueMemberToken: mutation(IssueMemberTokenDocument, 'issueMemberToken'),
    revokeMemberToken: mutation(RevokeMemberTokenDocument, 'revokeMemberToken'),
    memberTokens: async (variables, call) =>
      (await send(CoopMemberTokensDocument, variables, call)).coop?.memberTokens ?? null,
    viewer: async (call) => (await send(ViewerDocument, {}, call)).viewer,
    apiTokens: async (call) => (await send(ApiTokensDocument, {}, call)).apiTokens,
    issueApiToken: mutation(IssueApiTokenDocument, 'issueApiToken'),
    revokeApiToken: mutation(RevokeApiTokenDocument, 'revokeApiToken'),
    patronagePolicy: query(PatronagePolicyDocument, 'patronagePolicy'),
    patronagePolicies: query(PatronagePoliciesDocument, 'patronagePolicies'),
    previewPatronageAllocation: query(PreviewPatronageAllocationDocument, 'previewPatronageAllocation'),
    patronageRun: query(PatronageRunDocument, 'patronageRun'),
    patronageRuns: query(PatronageRunsDocument, 'patronageRuns'),
    verifyPatronageRun: query(VerifyPatronageRunDocument, 'verifyPatronageRun'),
    patronageRecords: query(PatronageRecordsDocument, 'patronageRecords'),
    myPatronageAllocations: async (call) =>
      (await send(MyPatronageAllocationsDocument, {}, call)).myPatronageAllocations,
    patronageNotice: query(PatronageNoticeDocument, 'patronageNotice'),
    patronageNoticePdf: async (variables, call) => {
      const notice = (await send(PatronageNoticeDocument, variables, call)).patronageNotice;
      return notice ? Uint8Array.from(atob(notice.pdfBase64), (c) => c.charCodeAt(0)) : null;
    },
    patronageTaxForms: query(PatronageTaxFormsDocument, 'patronageTaxForms'),
    setPatronagePolicy: mutation(SetPatronagePolicyDocument, 'setPatronagePolicy'),
    setPatronageConsent: mutation(SetPatronageConsentDocument, 'setPatronageConsent'),
    recordPatronage: mutation(RecordPatronageDocument, 'recordPatronage'),
    importPatronageCsv: mutation(ImportPatronageCsvDocument, 'importPatronageCsv'),
    commitPatronageAllocation: mutation(CommitPatronageAllocationDocument, 'commitPatronageAllocation'),
    reversePatronageAllocation: mutation(ReversePatronageAllocationDocument, 'reversePatronageAllocation'),
    payPatronageCash: mutation(PayPatronageCashDocument, 'payPatronageCash'),
    redeemRetainedPatronage: mutation(RedeemRetainedPatronageDocument, 'redeemRetainedPatronage'),
    creditNetwork: query(CreditNetworkDocument, 'creditNetwork'),
    creditNetworks: query(CreditNetworksDocument, 'creditNetworks'),
    creditPolicyHistory: query(CreditPolicyHistoryDocument, 'creditNetwork'),
    networkMemberHistory: query(NetworkMemberHistoryDocument, 'creditNetwork'),
    networkPaymentRequests: query(NetworkPaymentRequestsDocument, 'creditNetwork'),
    paymentRequest: query(PaymentRequestDocument, 'paymentRequest'),
    networkObligations: query(NetworkObligationsDocument, 'creditNetwork'),
    networkBalanceProof: query(NetworkBalanceProofDocument, 'creditNetwork'),
    networkStatistics: query(NetworkStatisticsDocument, 'creditNetwork'),
    networkClearings: query(NetworkClearingsDocument, 'creditNetwork'),
    previewClearing: query(PreviewClearingDocument, 'previewClearing'),
    createCreditNetwork: mutation(CreateCreditNetworkDocument, 'createCreditNetwork'),
    addNetworkCurrency: mutation(AddNetworkCurrencyDocument, 'addNetworkCurrency'),
    setCreditPolicy: mutation(SetCreditPolicyDocument, 'setCreditPolicy'),
    joinCreditNetwork: mutation(JoinCreditNetworkDocument, 'joinCreditNetwork'),
    setCreditLimit: mutation(SetCreditLimitDocument, 'setCreditLimit'),
    applyCreditPolicy: mutation(ApplyCreditPolicyDocument, 'applyCreditPolicy'),
    payInNetwork: mutation(PayInNetworkDocument, 'payInNetwork'),
    createPaymentRequest: mutation(CreatePaymentRequestDocument, 'createPaymentRequest'),
    acceptPaymentRequest: mutation(AcceptPaymentRequestDocument, 'acceptPaymentRequest'),
    declinePaymentRequest: mutation(DeclinePaymentRequestDocument, 'declinePaymentRequest'),
    cancelPaymentRequest: mutation(CancelPaymentRequestDocument, 'cancelPaymentRequest'),
    completePaymentRequest: mutation(CompletePaymentRequestDocument, 'completePaymentRequest'),
    releasePaymentRequest: mutation(ReleasePaymentRequestDocument, 'releasePaymentRequest'),
    recordObligations: mutation(RecordObligationsDocument, 'recordObligations'),
    importObligationsCsv: mutation(ImportObligationsCsvDocument, 'importObligationsCsv'),
    commitClearing: mutation(CommitClearingDocument, 'commitClearing'),
    paginate: (fetchPage, paginateOptions) => paginate(fetchPage, paginateOptions),
    iterateBooks: (variables = {}, call) => iterate(books, variables, call),
    iterateAccounts: (variables, call) => iterate(accounts, variables, call),
    iterateJournalEntries: (variables, call) => iterate(journalEntries, variables, call),
    iterateCoops: (variables = {}, call) => iterate(coops, variables, call),
    iterateCoopDirectory: (variables = {}, call) => iterate(coopDirectory, variables, call),
    iterateMemberships: (variables, call) =>
      iterate(
        async (v: CoopMembershipsQueryVariables, c?: CallOptions) => (await coopMemberships(v, c)) ?? noPage,
        variables,
        call,
      ),
    iterateParties: (variables, call) =>
      iterate(
        async (v: CoopPartiesQueryVariables, c?: CallOptions) => (await coopParties(v, c)) ?? noPage,
        variables,
        call,
      ),
    iterateCreditNetworks: (variables = {}, call) =>
      iterate(
        async (v: CreditNetworksQueryVariables, c?: CallOptions) =>
          (await send(CreditNetworksDocument, v, c)).creditNetworks,
        variables,
        call,
      ),
    iterateNetworkMembers: (variables, call) =>
      iterate(
        async (v: CreditNetworkQueryVariables, c?: CallOptions) =>
          (await send(CreditNetworkDocument, v, c)).creditNetwork?.members ?? noPage,
        variables,
        call,
      ),
    iterateNetworkPaymentRequests: (variables, call) =>
      iterate(
        async (v: NetworkPaymentRequestsQueryVariables, c?: CallOptions) =>
          (await send(NetworkPaymentRequestsDocument, v, c)).creditNetwork?.paymentRequests ?? noPage,
        variables,
        call,
      ),
    iterateNetworkObligations: (variables, call) =>
      iterate(
        async (v: NetworkObligationsQueryVariables, c?: CallOptions) =>
          (await send(NetworkObligationsDocument, v, c)).creditNetwork?.obligations ?? noPage,
        variables,
        call,
      ),
    iterateNetworkClearings: (variables, call) =>
      iterate(
        async (v: NetworkClearingsQueryVariables, c?: CallOptions) =>
          (await send(NetworkClearingsDocument, v, c)).creditNetwork?.clearings ?? noPage,
        variables,
        call,
      ),
    iteratePatronageRuns: (variables, call) =>
      iterate(
        async (v: PatronageRunsQueryVariables, c?: CallOptions) =>
          (await send(PatronageRunsDocument, v, c)).patronageRuns ?? noPage,
        variables,
        call,
      ),
    iteratePatronageRecords: (variables, call) =>
      iterate(
        async (v: PatronageRecordsQueryVariables, c?: CallOptions) =>
          (await send(PatronageRecordsDocument, v, c)).patronageRecords ?? noPage,
        variables,
        call,
      ),
    accountByCode: query(AccountByCodeDocument, 'account'),
    incomeStatement: query(IncomeStatementDocument, 'incomeStatement'),
    balanceSheet: query(BalanceSheetDocument, 'balanceSheet'),
    incomeStatementFiles: async (variables, call) => {
      const s = (await send(IncomeStatementFileDocument, variables, call)).incomeStatement;
      return s ? { fileName: s.fileName, csv: s.csv, pdf: fromBase64(s.pdfBase64) } : null;
    },
    balanceSheetFiles: async (variables, call) => {
      const s = (await send(BalanceSheetFileDocument, variables, call)).balanceSheet;
      return s ? { fileName: s.fileName, csv: s.csv, pdf: fromBase64(s.pdfBase64) } : null;
    },
    rolledTrialBalance: query(RolledTrialBalanceDocument, 'trialBalance'),
    trialBalanceCsv: async (variables, call) =>
      (await send(TrialBalanceCsvDocument, variables, call)).trialBalance?.csv ?? null,
    trialBalancePage: query(TrialBalancePageDocument, 'trialBalance'),
    trialBalanceAllLines: async ({ pageSize = TRIAL_BALANCE_PAGE_MAX, ...variables }, call) => {
      const page = (asOf: TrialBalancePageQueryVariables['asOf'], after: string | null) =>
        send(TrialBalancePageDocument, { ...variables, asOf, first: pageSize, after }, call).then(
          (r) => r.trialBalance,
        );
      let head = await page(variables.asOf ?? null, null);
      if (!head || head.lines.length >= head.lineCount) return head;
      const asOf = variables.asOf ?? new Date().toISOString();
      if (!variables.asOf) head = await page(asOf, null);
      if (!head) return null;
      const lines = [...head.lines];
      while (lines.length < head.lineCount) {
        const next = await page(asOf, lines[lines.length - 1]!.cursor);
        if (!next) return null;
        if (next.lines.length === 0) break;
        lines.push(...next.lines);
      }
      return { ...head, lines };
    },
    importJournalCsv: mutation(ImportJournalCsvDocument, 'importJournalCsv'),
    bankAccount: query(BankAccountDocument, 'bankAccount'),
    bankStatements: async (variables, call) =>
      (await send(BankStatementsDocument, variables, call)).bankAccount?.statements ?? null,
    bankLines: async (variables, call) =>
      (await send(BankLinesDocument, variables, call)).bankAccount?.lines ?? null,
    bankMatchSuggestions: async (variables, call) =>
      (await send(BankMatchSuggestionsDocument, variables, call)).bankAccount?.suggestions ?? null,
    bankReconciliations: async (variables, call) =>
      (await send(BankReconciliationsDocument, variables, call)).bankAccount?.reconciliations ?? null,
    bankStatement: query(BankStatementDocument, 'bankStatement'),
    bankReconciliation: query(BankReconciliationDocument, 'bankReconciliation'),
    setBankAccountOptions: mutation(SetBankAccountOptionsDocument, 'setBankAccountOptions'),
    cityReport: async (input, call) => (await send(CityReportDocument, { input }, call)).cityReport,
    cityReportReleases: query(CityReportReleasesDocument, 'cityReportReleases'),
    cityReportExport: query(CityReportExportDocument, 'cityReportExport'),
    coopReportingProfiles: query(CoopReportingProfilesDocument, 'coopReportingProfiles'),
    reportCoopProfile: mutation(ReportCoopProfileDocument, 'reportCoopProfile'),
    publishCityReport: mutation(PublishCityReportDocument, 'publishCityReport'),
    importBankStatement: mutation(ImportBankStatementDocument, 'importBankStatement'),
    confirmBankMatches: mutation(ConfirmBankMatchesDocument, 'confirmBankMatches'),
    acceptBankSuggestions: mutation(AcceptBankSuggestionsDocument, 'acceptBankSuggestions'),
    unmatchBankLine: mutation(UnmatchBankLineDocument, 'unmatchBankLine'),
    createBankRule: mutation(CreateBankRuleDocument, 'createBankRule'),
    deleteBankRule: mutation(DeleteBankRuleDocument, 'deleteBankRule'),
    applyBankRules: mutation(ApplyBankRulesDocument, 'applyBankRules'),
    postBankLine: mutation(PostBankLineDocument, 'postBankLine'),
    startBankReconciliation: mutation(StartBankReconciliationDocument, 'startBankReconciliation'),
    closeBankReconciliation: mutation(CloseBankReconciliationDocument, 'closeBankReconciliation'),
  };
}

// --- internals ------------------------------------------------------------------------------------

function describeOperation(document: DocumentNode): {
  kind: OperationKind;
  name: string | undefined;
} {
  for (const definition of document.definitions) {
    if (definition.kind === 'OperationDefinition') {
      return { kind: definition.operation as OperationKind, name: definition.name?.value };
    }
  }
  throw new TypeError('The document has no operation (only fragments?).');
}

interface FailureContext {
  operationName: string | undefined;
  /** The id the SDK sent for this attempt. */
  requestId: string;
  attempts: number;
  /** The caller's signal fired. */
  aborted: boolean;
  /** This attempt's time limit passed. */
  timedOut: boolean;
  timeoutMs: number;
}

/** Classifies an answer that is not a success: GraphQL errors, an HTTP error, or no GraphQL at all. */
function answerError(
  answer: HttpAnswer,
  context: Pick<FailureContext, 'operationName' | 'requestId' | 'attempts'>,
): { error: LedgerClientError; retryAfterMs: number | undefined } {
  const label = context.operationName ?? 'GraphQL request';
  const body = graphQLBodyOf(answer);
  const errors = (body?.errors ?? []) as readonly LedgerGraphQLError[];
  const { status, headers } = answer;
  const codes = errors.map((error) => error.extensions?.code).filter((code) => typeof code === 'string');
  const requestId =
    headers.get(REQUEST_ID_HEADER) ??
    stringOrUndefined(errors[0]?.extensions?.requestId) ??
    context.requestId;
  const retryable =
    status >= 500 || status === 429 || codes.some((code) => RETRYABLE_ERROR_CODES.has(code as string));
  const code: LedgerClientErrorCode =
    (codes[0] as string | undefined) ??
    (errors.length > 0 ? 'GRAPHQL_ERROR' : status >= 200 && status < 300 ? 'INVALID_RESPONSE' : 'HTTP_ERROR');
  const detail = errors[0]?.message ?? `HTTP ${status}`;
  return {
    error: new LedgerClientError({
      operationName: context.operationName,
      attempts: context.attempts,
      code,
      message: `${label} failed: ${detail} (${code}, request ${requestId})`,
      requestId,
      status,
      errors,
      data: body?.data,
      retryable,
    }),
    retryAfterMs: parseRetryAfterMs(headers.get('retry-after')),
  };
}

/** Classifies what one attempt threw before any answer arrived (network, timeout, abort). */
function toLedgerClientError(
  raw: unknown,
  context: FailureContext,
): { error: LedgerClientError; retryAfterMs: number | undefined } {
  const base = { operationName: context.operationName, attempts: context.attempts, cause: raw };
  const label = context.operationName ?? 'GraphQL request';
  const noResponse = (code: LedgerClientErrorCode, message: string, retryable: boolean) => ({
    error: new LedgerClientError({
      ...base,
      code,
      message: `${label} failed: ${message} (${code}, request ${context.requestId})`,
      requestId: context.requestId,
      status: undefined,
      errors: [],
      data: undefined,
      retryable,
    }),
    retryAfterMs: undefined,
  });
  if (context.aborted) return noResponse('ABORTED', 'aborted by the caller', false);
  if (context.timedOut || isNamed(raw, 'TimeoutError')) {
    return noResponse('TIMEOUT', `no response within ${context.timeoutMs} ms`, true);
  }
  if (isNetworkError(raw)) return noResponse('NETWORK_ERROR', describe(raw), true);
  return noResponse('INVALID_RESPONSE', describe(raw), false);
}

/** fetch (undici) rejects with a TypeError for refused, reset or dropped connections; node-fetch with FetchError. */
function isNetworkError(error: unknown): boolean {
  if (error instanceof TypeError) return true;
  if (isNamed(error, 'FetchError')) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code);
}

function isNamed(error: unknown, name: string): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === name;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}
