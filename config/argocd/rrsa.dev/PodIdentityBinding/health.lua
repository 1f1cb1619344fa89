-- Argo CD health check for rrsa.dev/PodIdentityBinding (kstatus-compliant status: Ready summary,
-- abnormal-true Reconciling/Stalled, observedGeneration on status and on every condition).
local hs = { status = "Progressing", message = "Waiting for the operator to observe the binding" }
if obj.status == nil then
  return hs
end
if obj.metadata.generation ~= nil and obj.status.observedGeneration ~= obj.metadata.generation then
  hs.message = "Waiting for the operator to observe generation " .. tostring(obj.metadata.generation)
  return hs
end
local ready, stalled, reconciling
for _, condition in ipairs(obj.status.conditions or {}) do
  if condition.type == "Ready" then ready = condition end
  if condition.type == "Stalled" then stalled = condition end
  if condition.type == "Reconciling" then reconciling = condition end
end
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = stalled.reason .. ": " .. stalled.message
  return hs
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = reconciling.reason .. ": " .. reconciling.message
  return hs
end
if ready ~= nil then
  hs.message = ready.reason .. ": " .. ready.message
end
return hs
