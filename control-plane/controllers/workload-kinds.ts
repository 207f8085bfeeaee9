// The workload kinds the controllers read and write, from the API's kind definitions, plus the
// names the controllers use for them.
export type {
  ControllerRevision, CronJob, DaemonSet, Deployment, EndpointAddress, EndpointPort, EndpointSlice, EndpointSubset, Endpoints,
  HorizontalPodAutoscaler, Job, LabelSelector as LabelSelectorSpec, LabelSelectorRequirement, MetricSpec, MetricTarget,
  PodTemplateSpec, ReplicaSet, Service, ServicePort, SliceEndpoint, StatefulSet,
} from '../resources/kinds/index.js';

export type IntOrString = number | string;
