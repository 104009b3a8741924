// What the API's codes say, in words for a seller.

export const STATUS = {
  PENDING: "Pending (not yet sent to the warehouse)",
  SENT_TO_WAREHOUSE: "Sent to the warehouse",
  PICKED: "Picked",
  PACKED: "Packed",
  DESPATCHED: "Despatched",
  CANCELLED: "Cancelled",
};

export const UNAVAILABLE = {
  CANCELLATION_PENDING: "A cancellation request is waiting for the warehouse",
  CANCELLATION_REJECTED: "The warehouse rejected the cancellation request; it can no longer be cancelled",
  ORDER_DESPATCHED: "This order has been despatched and can no longer be cancelled",
  ORDER_CANCELLED: "This order has been cancelled",
  ORDER_IN_WAREHOUSE: "This order is in the warehouse and can no longer be edited",
};

export const SELLER_REASONS = {
  CUSTOMER_REQUEST: "The customer asked to cancel",
  ADDRESS_ERROR: "The address is wrong",
  DUPLICATE_ORDER: "The order was sent twice",
  FRAUD_SUSPECTED: "Fraud is suspected",
  OTHER: "Another reason",
};

export const EVENTS = {
  ORDER_CANCELLED: "Order cancelled",
  CANCELLATION_REQUESTED: "Cancellation requested",
  CANCELLATION_APPROVED: "Cancellation approved by the warehouse",
  CANCELLATION_REJECTED: "Cancellation rejected by the warehouse",
  CANCELLATION_REQUEST_OVERDUE: "Cancellation request escalated (the warehouse is late)",
  ORDER_CREATED: "Order created",
  STATUS_CHANGED: "Status changed",
  ORDER_EDITED: "Order edited",
};

export function who(by) {
  if (by === "warehouse") return "the warehouse";
  if (by === "system") return "the system";
  return "you";
}
